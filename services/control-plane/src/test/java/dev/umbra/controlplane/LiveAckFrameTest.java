package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessageDeliveryTest.Client;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The live socket's {@code ack} frame (docs/messaging.md, "WebSocket protocol"), the way {@code
 * umbra agent run} now acknowledges: exactly {@code {"type":"ack","ids":[1..200 ids]}}, done as the
 * socket's party in one statement ({@code message_ack}); a replayed frame deletes nothing; anything
 * else in it closes the socket with 1008 before PostgreSQL is asked; a party no longer active is
 * closed with 4403 and its copies stay.
 */
@ExtendWith(VertxExtension.class)
class LiveAckFrameTest {
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

  Client connect(Vertx vertx) throws Exception {
    return MessageDeliveryTest.connect(vertx, h, scene.ws(), scene.agent().session());
  }

  static List<Integer> acked(Client c) {
    return c.frames().stream()
        .filter(f -> "acked".equals(f.getString("type")))
        .map(f -> f.getInteger("deleted"))
        .toList();
  }

  /** The ids pending for the scene's agent. */
  List<String> pending() {
    return scene.pending(h, scene.agent().session());
  }

  /** The close code of {@code c} after it sent {@code frame}. */
  static short closedBy(Client c, String frame) {
    List<Short> closed = new CopyOnWriteArrayList<>();
    c.ws().closeHandler(v -> closed.add(c.ws().closeStatusCode()));
    c.ws().writeTextMessage(frame);
    Eventually.await("closed", Duration.ofSeconds(20), () -> !closed.isEmpty());
    return closed.getFirst();
  }

  @Test
  void anAckFrameDeletesTheSocketsPartysCopiesAndItsReplayNothing(Vertx vertx) throws Exception {
    String first = MessagingFixture.send(h, scene, new byte[] {1});
    String second = MessagingFixture.send(h, scene, new byte[] {2});
    Client c = connect(vertx);
    String frame =
        new JsonObject().put("type", "ack").put("ids", new JsonArray().add(first)).encode();
    c.ws().writeTextMessage(frame);
    Eventually.await("acked", Duration.ofSeconds(20), () -> acked(c).size() == 1);
    c.ws().writeTextMessage(frame); // replayed
    Eventually.await("acked again", Duration.ofSeconds(20), () -> acked(c).size() == 2);
    assertThat(acked(c)).containsExactly(1, 0);
    assertThat(pending()).as(second + " stays").hasSize(1);
  }

  @Test
  void anythingElseInAnAckFrameClosesTheSocketWith1008AndDeletesNothing(Vertx vertx)
      throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 201; i++) {
      tooMany.add(id);
    }
    List<String> frames =
        List.of(
            "{\"type\":\"ack\",\"ids\":[\"" + id + "\"", // truncated
            new JsonObject().put("type", "ack").put("ids", tooMany).encode(), // oversized
            new JsonObject().put("type", "ack").put("ids", new JsonArray()).encode(),
            new JsonObject().put("type", "ack").encode(),
            new JsonObject().put("type", "ack").put("ids", new JsonArray().add(7)).encode(),
            new JsonObject().put("type", "ack").put("ids", new JsonArray().add("x")).encode(),
            new JsonObject().put("type", "ack").put("ids", id).encode(),
            new JsonObject()
                .put("type", "ack")
                .put("ids", new JsonArray().add(id))
                .put("recipient_id", UUID.randomUUID().toString())
                .encode());
    for (String f : frames) {
      assertThat(closedBy(connect(vertx), f)).as(f).isEqualTo((short) 1008);
    }
    assertThat(pending()).hasSize(1);
  }

  @Test
  void anAgentRevokedInTheDatabaseIsClosedWith4403AndItsCopiesStay(Vertx vertx) throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    Client c = connect(vertx);
    MessagingFixture.asOwner(
        h, "UPDATE control_plane.agents SET status = 'revoked' WHERE id = ?", scene.agent().id());
    String frame = new JsonObject().put("type", "ack").put("ids", new JsonArray().add(id)).encode();
    assertThat(closedBy(c, frame)).isEqualTo((short) 4403);
    assertThat(AckChecksTest.stored(h, id)).isEqualTo(1);
  }
}
