package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The live messaging socket holds a bounded amount for a client that does not read: a member or
 * agent that sends pings (or is pushed copies) without ever reading the answers is closed once
 * {@code LiveSocket.MAX_QUEUED_BYTES} wait unwritten, instead of growing the instance's memory with
 * every frame it sends (docs/messaging.md, "WebSocket protocol").
 */
@ExtendWith(VertxExtension.class)
class LiveSocketBoundsTest {
  private static final byte[] PING = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);

  Harness a;
  MessagingFixture.Scene scene;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(a, "claude");
  }

  @AfterEach
  void stop() throws Exception {
    a.close();
  }

  @Test
  void aClientThatSendsPingsAndNeverReadsThePongsIsClosed() throws Exception {
    try (Socket raw = new Socket()) {
      raw.setReceiveBufferSize(4096); // what it does not read stays on the server's side
      raw.connect(new java.net.InetSocketAddress("127.0.0.1", a.service.actualPort()), 20_000);
      OutputStream out = raw.getOutputStream();
      out.write(
          ("GET /v1/workspaces/"
                  + scene.owner().workspaceId()
                  + "/messages/live HTTP/1.1\r\n"
                  + "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  + "Authorization: Bearer "
                  + scene.agent().session()
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = raw.getInputStream();
      assertThat(head(in)).startsWith("HTTP/1.1 101");

      // ~500,000 pings: their pongs are several times what the kernel buffers on both sides hold
      byte[] burst = pings(10_000);
      boolean ended = false;
      for (int i = 0; i < 50 && !ended; i++) {
        try {
          out.write(burst);
        } catch (IOException e) {
          ended = true; // the server closed the connection under us
        }
      }
      assertThat(endsWithin(in, raw, 60_000))
          .as("the server closes a socket whose client lets its answers pile up")
          .isTrue();
    }
  }

  @Test
  void oneSocketHasOneAckInFlightSoItCannotHoldTheInstancesPostgreSqlConnections(Vertx vertx)
      throws Exception {
    // every ack frame was its own transaction at once: one socket sending acks faster than they
    // were answered held every connection of the instance's pool (8) and the rest of the
    // workspaces waited for them
    String id = MessagingFixture.send(a, scene, new byte[] {1, 2, 3});
    MessageDeliveryTest.Client agent =
        MessageDeliveryTest.connect(vertx, a, scene.owner().workspaceId(), scene.agent().session());
    String ack = new JsonObject().put("type", "ack").put("ids", new JsonArray().add(id)).encode();
    try (Connection owner = a.pg.ownerConnection()) {
      owner.setAutoCommit(false);
      try (Statement st = owner.createStatement()) {
        st.execute("SELECT id FROM control_plane.messages WHERE id = '" + id + "' FOR UPDATE");
      }
      for (int i = 0; i < 10; i++) {
        agent.ws().writeTextMessage(ack);
      }
      Eventually.await(
          "an ack waits for the held row", Duration.ofSeconds(20), () -> waitingForLocks() >= 1);
      Eventually.holdsThroughout(
          "no second ack of the socket waits beside it",
          Duration.ofSeconds(2),
          () -> waitingForLocks() == 1);
      Harness.Response pending =
          a.call(
              "GET",
              "/v1/workspaces/" + scene.owner().workspaceId() + "/messages",
              scene.device().session(),
              null);
      assertThat(pending.status()).as("the instance still serves others").isEqualTo(200);
      owner.rollback();
    }
    Eventually.await(
        "every ack answered, in turn",
        Duration.ofSeconds(30),
        () ->
            agent.frames().stream().filter(f -> "acked".equals(f.getString("type"))).count() == 10);
    assertThat(
            agent.frames().stream()
                .filter(f -> "acked".equals(f.getString("type")))
                .mapToInt(f -> f.getInteger("deleted"))
                .sum())
        .isEqualTo(1);
  }

  @Test
  void aPartyHoldsAtMostSixteenLiveSocketsOnAnInstance(Vertx vertx) throws Exception {
    // each socket may hold 4 MiB unwritten: without a bound, the sockets one agent or member opened
    // multiplied it
    List<MessageDeliveryTest.Client> open = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      open.add(
          MessageDeliveryTest.connect(
              vertx, a, scene.owner().workspaceId(), scene.agent().session()));
    }
    WebSocket extra = upgrade(vertx).ws();
    Eventually.await("the seventeenth is closed", Duration.ofSeconds(20), extra::isClosed);
    assertThat(extra.closeStatusCode()).isEqualTo((short) 1008);
    assertThat(extra.closeReason()).isEqualTo("too many sockets");
    assertThat(open).noneMatch(c -> c.ws().isClosed());

    open.getFirst()
        .ws()
        .close()
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    Eventually.await(
        "a place is free again once one of them closed",
        Duration.ofSeconds(20),
        () -> {
          MessageDeliveryTest.Client next = upgrade(vertx);
          Eventually.await(
              "ready or closed",
              Duration.ofSeconds(20),
              () -> next.ready() || next.ws().isClosed());
          return next.ready();
        });
  }

  private MessageDeliveryTest.Client upgrade(Vertx vertx) throws Exception {
    return MessageDeliveryTest.upgrade(
        vertx, a, scene.owner().workspaceId(), scene.agent().session(), "");
  }

  /** Backends of the test database waiting for a lock. */
  private long waitingForLocks() throws Exception {
    return a.pg.number(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            + " AND wait_event_type = 'Lock'");
  }

  /** Reads (and drops) until the connection ends; false if it is still open after the wait. */
  private static boolean endsWithin(InputStream in, Socket raw, int millis) throws IOException {
    raw.setSoTimeout(millis);
    byte[] buf = new byte[64 * 1024];
    long deadline = System.nanoTime() + millis * 1_000_000L;
    try {
      while (System.nanoTime() < deadline) {
        if (in.read(buf) < 0) {
          return true;
        }
      }
      return false;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset: ended
    }
  }

  private static String head(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      sb.append((char) b);
    }
    return sb.toString();
  }

  /** {@code n} masked text frames (a zero mask: the payload as it is). */
  private static byte[] pings(int n) {
    int frame = 2 + 4 + PING.length;
    byte[] out = new byte[n * frame];
    for (int i = 0; i < n; i++) {
      int o = i * frame;
      out[o] = (byte) 0x81;
      out[o + 1] = (byte) (0x80 | PING.length);
      System.arraycopy(PING, 0, out, o + 6, PING.length);
    }
    return out;
  }
}
