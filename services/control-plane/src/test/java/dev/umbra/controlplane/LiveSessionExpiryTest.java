package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A live socket lives no longer than the session token it was opened with (docs/messaging.md,
 * "WebSocket protocol"): it is closed with 4401 {@code session expired} at the token's expiry, and
 * the client reconnects with a fresh token and keeps receiving.
 */
@ExtendWith(VertxExtension.class)
class LiveSessionExpiryTest {
  Harness h;
  MessagingFixture.Scene scene;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(h, "claude");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  String ws() {
    return scene.ws();
  }

  /** The agent sends a copy to the device; its id. */
  String fromAgent() {
    String id = UUID.randomUUID().toString();
    Harness.Response r =
        scene.send(h, scene.agent().session(), scene.conversation(), scene.device().id(), id);
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    return id;
  }

  String deviceSession() {
    return MessagingFixture.deviceSession(h, scene.owner().token(), ws(), scene.device().id());
  }

  static AtomicReference<String> closes(MessageDeliveryTest.Client c) {
    AtomicReference<String> closed = new AtomicReference<>();
    c.ws().closeHandler(v -> closed.set(c.ws().closeStatusCode() + " " + c.ws().closeReason()));
    return closed;
  }

  @Test
  void aSocketIsClosedWhenItsTokenExpiresAndAFreshTokenReconnectsAndKeepsReceiving(Vertx vertx)
      throws Exception {
    // the device's token is minted so that it has 3 s left on the service's (frozen) clock: its
    // socket's timer closes it 3 s after the upgrade, with no sweep and no clock change
    Duration left = Duration.ofSeconds(3);
    h.clock.advance(left.minus(SessionTokens.MAX_TTL));
    String shortLived = deviceSession();
    h.clock.advance(SessionTokens.MAX_TTL.minus(left));
    MessageDeliveryTest.Client device = MessageDeliveryTest.connect(vertx, h, ws(), shortLived);
    AtomicReference<String> closed = closes(device);
    String before = fromAgent();
    Eventually.await(
        "the copy sent before expiry is pushed",
        Duration.ofSeconds(20),
        () -> device.messageIds().contains(before));
    Eventually.await(
        "the socket is closed at its token's expiry",
        Duration.ofSeconds(30),
        () -> closed.get() != null);
    assertThat(closed.get()).isEqualTo("4401 session expired");
    Eventually.await(
        "the instance let it go",
        Duration.ofSeconds(10),
        () -> h.service.messaging().live().sockets() == 0);

    MessageDeliveryTest.Client again = MessageDeliveryTest.connect(vertx, h, ws(), deviceSession());
    String after = fromAgent();
    Eventually.await(
        "the socket opened with a fresh token receives",
        Duration.ofSeconds(20),
        () -> again.messageIds().contains(after));
  }

  @Test
  void theSweepClosesASocketWhoseTokenExpiredByTheClockAndLeavesTheOthers(Vertx vertx)
      throws Exception {
    MessageDeliveryTest.Client agent =
        MessageDeliveryTest.connect(vertx, h, ws(), scene.agent().session());
    AtomicReference<String> agentClosed = closes(agent);
    h.service.messaging().sweepSockets();
    h.clock.advance(SessionTokens.MAX_TTL.minusSeconds(30));
    MessageDeliveryTest.Client device =
        MessageDeliveryTest.connect(vertx, h, ws(), deviceSession());
    AtomicReference<String> deviceClosed = closes(device);
    h.service.messaging().sweepSockets();
    assertThat(agentClosed.get()).as("30 s left: still open").isNull();

    h.clock.advance(Duration.ofSeconds(31));
    h.service.messaging().sweepSockets();
    Eventually.await(
        "the expired socket is closed", Duration.ofSeconds(20), () -> agentClosed.get() != null);
    assertThat(agentClosed.get()).isEqualTo("4401 session expired");
    assertThat(deviceClosed.get()).as("a token with time left keeps its socket").isNull();
    assertThat(device.ws().isClosed()).isFalse();
  }
}
