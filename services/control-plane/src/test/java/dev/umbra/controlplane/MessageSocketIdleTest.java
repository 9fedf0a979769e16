package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A live socket that sends nothing for the idle limit is closed (1001); pings keep it open. */
@ExtendWith(VertxExtension.class)
class MessageSocketIdleTest {
  Harness h;
  Harness.Owner alice;
  AgentKeys agent;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of("UMBRA_MESSAGE_SOCKET_IDLE_SECONDS", "2"));
    alice = h.bootstrap("A");
    agent =
        MessagingFixture.approvedAgent(
            h, alice.token(), MessagingFixture.machine(h, alice.workspaceId()), "claude");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void aSilentSocketIsClosedAndAPingingOneIsNot(Vertx vertx) throws Exception {
    MessageDeliveryTest.Client silent =
        MessageDeliveryTest.connect(vertx, h, alice.workspaceId(), agent.session());
    MessageDeliveryTest.Client pinging =
        MessageDeliveryTest.connect(vertx, h, alice.workspaceId(), agent.session());
    List<Short> silentClosed = new CopyOnWriteArrayList<>();
    silent.ws().closeHandler(v -> silentClosed.add(silent.ws().closeStatusCode()));
    long pinger =
        vertx.setPeriodic(
            300, t -> pinging.ws().writeTextMessage(new JsonObject().put("type", "ping").encode()));
    try {
      Eventually.await(
          "the silent socket closed", Duration.ofSeconds(20), () -> !silentClosed.isEmpty());
      assertThat(silentClosed).containsExactly((short) 1001);
      assertThat(pinging.ws().isClosed()).isFalse();
      assertThat(pinging.frames()).anyMatch(f -> "pong".equals(f.getString("type")));
    } finally {
      vertx.cancelTimer(pinger);
      pinging.ws().close();
    }
  }
}
