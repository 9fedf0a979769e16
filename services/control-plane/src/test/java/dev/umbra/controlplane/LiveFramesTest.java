package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessageDeliveryTest.Client;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a recipient's client sends on its live socket (docs/messaging.md, "WebSocket protocol"),
 * against a real instance (PostgreSQL, Redis): truncated, oversized and malformed frames close the
 * socket with their code and reason and delete nothing; a replayed ack, and an ack of another
 * party's or another workspace's copy, delete nothing and leave the socket open. The parser itself
 * is fuzzed by {@code LiveFramesFuzzTest}.
 */
@ExtendWith(VertxExtension.class)
class LiveFramesTest {
  Harness h;
  MessagingFixture.Scene scene;
  String ws;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(h, "claude");
    ws = scene.ws();
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void aTruncatedFrameClosesTheSocketAndAcknowledgesNothing(Vertx vertx) throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    String ack = ack(id);
    assertClosed(
        vertx,
        c -> c.writeTextMessage(ack.substring(0, ack.length() - 5)),
        1008,
        "malformed frame");
    // an id cut inside a whole frame
    assertClosed(vertx, c -> c.writeTextMessage(ack(id.substring(0, 30))), 1008, "malformed ack");
    assertThat(scene.pending(h, scene.agent().session())).containsExactly(id);
  }

  @Test
  void anOversizedFrameOrAckClosesTheSocketAndAcknowledgesNothing(Vertx vertx) throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    // over the socket's 64 KiB (frame and message): closed before it is read
    String big = "{\"type\":\"ping\",\"pad\":\"" + "x".repeat(70 * 1024) + "\"}";
    assertClosed(vertx, c -> c.writeTextMessage(big), 1009, "message_too_big");
    // 201 ids, the first the pending copy's: over the limit, none is acknowledged
    JsonArray ids = new JsonArray().add(id);
    for (int i = 0; i < 200; i++) {
      ids.add(UUID.randomUUID().toString());
    }
    String over = new JsonObject().put("type", "ack").put("ids", ids).encode();
    assertClosed(vertx, c -> c.writeTextMessage(over), 1008, "malformed ack");
    assertThat(scene.pending(h, scene.agent().session())).containsExactly(id);
  }

  @Test
  void malformedFramesCloseTheSocketWithTheirReason(Vertx vertx) throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    for (String frame : List.of("[{\"type\":\"ping\"}]", "null", "\"ack\"", "42", "", "{} {}")) {
      assertClosed(vertx, c -> c.writeTextMessage(frame), 1008, "malformed frame");
    }
    for (String frame : List.of("{}", "{\"type\":\"hello\"}", "{\"type\":[\"ack\"]}")) {
      assertClosed(vertx, c -> c.writeTextMessage(frame), 1008, "unknown frame type");
    }
    for (String frame :
        List.of(
            "{\"type\":\"ack\"}",
            "{\"type\":\"ack\",\"ids\":[]}",
            "{\"type\":\"ack\",\"ids\":\"" + id + "\"}",
            "{\"type\":\"ack\",\"ids\":[42]}",
            "{\"type\":\"ack\",\"ids\":[\"" + id + "\"],\"all\":true}",
            // UUID.fromString reads this 36-character text as another id: not canonical
            "{\"type\":\"ack\",\"ids\":[\"01d24e-960000-7000-8000-000000000001\"]}")) {
      assertClosed(vertx, c -> c.writeTextMessage(frame), 1008, "malformed ack");
    }
    assertClosed(
        vertx, c -> c.writeBinaryMessage(Buffer.buffer(ack(id))), 1008, "text frames only");
    assertThat(scene.pending(h, scene.agent().session())).containsExactly(id);
  }

  @Test
  void aReplayedAckDeletesNothingTheSecondTimeAndTheSocketGoesOn(Vertx vertx) throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    Client agent = MessageDeliveryTest.connect(vertx, h, ws, scene.agent().session());
    agent.ws().writeTextMessage(ack(id));
    agent.ws().writeTextMessage(ack(id));
    agent.ws().writeTextMessage(ack(id.toUpperCase()));
    agent.ws().writeTextMessage("{\"type\":\"ping\"}");
    Eventually.await("answered", Duration.ofSeconds(20), () -> types(agent).contains("pong"));
    assertThat(LiveAckFrameTest.acked(agent)).containsExactly(1, 0, 0);
    assertThat(agent.ws().isClosed()).isFalse();
    assertThat(scene.pending(h, scene.agent().session())).isEmpty();
  }

  @Test
  void anAckOfAnotherPartysCopyDeletesNothing(Vertx vertx) throws Exception {
    // the copy is the agent's; the owner's device acknowledges its id on its own socket
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    Client device = MessageDeliveryTest.connect(vertx, h, ws, scene.device().session());
    device.ws().writeTextMessage(ack(id));
    Eventually.await(
        "answered", Duration.ofSeconds(20), () -> LiveAckFrameTest.acked(device).size() == 1);
    assertThat(LiveAckFrameTest.acked(device)).containsExactly(0);
    assertThat(device.ws().isClosed()).isFalse();
    assertThat(scene.pending(h, scene.agent().session())).containsExactly(id);
  }

  @Test
  void anAckOfAnotherWorkspacesCopyDeletesNothing(Vertx vertx) throws Exception {
    // the same member's workspace B, a copy held there for B's agent
    MessagingFixture.OtherWorkspace b = MessagingFixture.otherWorkspace(h, scene);
    String idB = b.send(h, new byte[] {1});

    Client agentA = MessageDeliveryTest.connect(vertx, h, ws, scene.agent().session());
    agentA.ws().writeTextMessage(ack(idB));
    Eventually.await(
        "answered", Duration.ofSeconds(20), () -> LiveAckFrameTest.acked(agentA).size() == 1);
    assertThat(LiveAckFrameTest.acked(agentA)).containsExactly(0);
    assertThat(agentA.ws().isClosed()).isFalse();
    assertThat(MessagingFixture.pending(h, b.ws(), b.agent().session())).containsExactly(idB);
  }

  /**
   * Opens a live socket as the scene's agent, sends what {@code send} writes, and checks that the
   * instance closes it with {@code code} and {@code reason}.
   */
  private void assertClosed(
      Vertx vertx, Consumer<io.vertx.core.http.WebSocket> send, int code, String reason)
      throws Exception {
    Client c = MessageDeliveryTest.connect(vertx, h, ws, scene.agent().session());
    send.accept(c.ws());
    Eventually.await("closed with " + reason, Duration.ofSeconds(20), c.ws()::isClosed);
    assertThat(c.ws().closeStatusCode()).as(reason).isEqualTo((short) code);
    assertThat(c.ws().closeReason()).isEqualTo(reason);
    assertThat(types(c)).as("nothing answered before the close").containsOnly("ready");
  }

  private static String ack(String id) {
    return new JsonObject().put("type", "ack").put("ids", new JsonArray().add(id)).encode();
  }

  private static List<String> types(Client c) {
    return c.frames().stream().map(f -> f.getString("type")).toList();
  }
}
