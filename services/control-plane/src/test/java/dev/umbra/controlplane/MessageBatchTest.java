package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Batches (docs/messaging.md, "Batches"): several sends in one {@code POST /messages/batch}, each
 * stored, audited and answered on its own; several copies in one {@code messages} frame on a socket
 * that asked for them ({@code ?frames=batch}); the batch parser's refusals; the blindness canary
 * over the batch path.
 */
@ExtendWith(VertxExtension.class)
class MessageBatchTest {
  static final int MAX_CIPHERTEXT = 64 * 1024;

  Harness a;
  MessagingFixture.Scene scene;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(a, "batches");
  }

  @AfterEach
  void stop() throws Exception {
    a.close();
  }

  String ws() {
    return scene.owner().workspaceId();
  }

  String batchPath() {
    return "/v1/workspaces/" + ws() + "/messages/batch";
  }

  JsonObject message(String id, byte[] ciphertext) {
    return MessagingFixture.message(id, scene.conversation(), scene.agent().id(), ciphertext);
  }

  Harness.Response batch(Harness h, String token, JsonArray messages) {
    return h.call("POST", batchPath(), token, new JsonObject().put("messages", messages));
  }

  /** Every copy id of the {@code messages} frames received, in order; fails on a single frame. */
  static List<String> batchedIds(ConcurrentLinkedQueue<JsonObject> frames) {
    List<String> out = new ArrayList<>();
    for (JsonObject f : frames) {
      assertThat(f.getString("type")).isNotEqualTo("message");
      if ("messages".equals(f.getString("type"))) {
        f.getJsonArray("messages").forEach(m -> out.add(((JsonObject) m).getString("id")));
      }
    }
    return out;
  }

  static ConcurrentLinkedQueue<JsonObject> connectBatched(
      Vertx vertx, Harness h, String ws, String token) throws Exception {
    return MessageDeliveryTest.connect(vertx, h, ws, token, "?frames=batch").frames();
  }

  @Test
  void aBatchIsStoredInOrderAuditedPerMessageAndPushedInMessagesFramesAcrossInstances(Vertx vertx)
      throws Exception {
    Vertx vertxB = Vertx.vertx();
    Harness b = new Harness(vertxB, a);
    try {
      ConcurrentLinkedQueue<JsonObject> onB =
          connectBatched(vertx, b, ws(), scene.agent().session());
      List<String> sent = new ArrayList<>();
      JsonArray messages = new JsonArray();
      for (int i = 0; i < 64; i++) {
        String id = UUID.randomUUID().toString();
        sent.add(id);
        messages.add(message(id, new byte[] {(byte) i, 1, 2, 3}));
      }
      Harness.Response r = batch(a, scene.device().session(), messages);
      assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
      JsonArray results = r.body().getJsonArray("results");
      assertThat(results).hasSize(64);
      for (int i = 0; i < 64; i++) {
        JsonObject res = results.getJsonObject(i);
        assertThat(res.getString("id")).isEqualTo(sent.get(i));
        assertThat(res.getInteger("stored")).isEqualTo(1);
        assertThat(res.containsKey("error")).isFalse();
      }
      Eventually.await(
          "pushed across instances", Duration.ofSeconds(20), () -> batchedIds(onB).size() == 64);
      assertThat(batchedIds(onB)).containsExactlyElementsOf(sent);
      assertThat(onB.stream().filter(f -> "messages".equals(f.getString("type"))).count())
          .as("several copies share a frame")
          .isLessThan(64);
      Eventually.await(
          "each message sent and delivered has its own audit event",
          Duration.ofSeconds(30),
          () -> {
            List<String> events = auditEvents();
            return sent.stream()
                .allMatch(
                    id ->
                        events.stream()
                                    .filter(e -> e.contains("agent.message.sent") && e.contains(id))
                                    .count()
                                == 1
                            && events.stream()
                                    .filter(
                                        e ->
                                            e.contains("agent.message.delivered") && e.contains(id))
                                    .count()
                                == 1);
          });
    } finally {
      vertxB.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** The audit events appended so far (the ingest stream), as text. */
  List<String> auditEvents() {
    List<String> out = new ArrayList<>();
    try {
      a.bus
          .range(dev.umbra.kit.bus.BusNames.AUDIT_INGEST, "0-0", 10_000)
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS)
          .forEach(e -> out.add(new String(e.body().getBytes(), StandardCharsets.ISO_8859_1)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  @Test
  void eachMessageOfABatchIsRefusedAloneInItsPlaceAndTheOthersAreStored() {
    String ok1 = UUID.randomUUID().toString();
    String ok2 = UUID.randomUUID().toString();
    String badCopy = UUID.randomUUID().toString();
    String stranger = UUID.randomUUID().toString();
    String otherConversation = UUID.randomUUID().toString();
    JsonArray messages =
        new JsonArray()
            .add(message(ok1, new byte[] {1}))
            .add("not an object")
            .add(message("not-a-uuid", new byte[] {1}))
            .add(message(badCopy, new byte[MAX_CIPHERTEXT + 1]))
            .add(message(UUID.randomUUID().toString(), new byte[] {1}).put("extra", 1))
            .add(
                MessagingFixture.message(
                    stranger, scene.conversation(), UUID.randomUUID(), new byte[] {1}))
            .add(
                MessagingFixture.message(
                    otherConversation,
                    UUID.randomUUID().toString(),
                    scene.agent().id(),
                    new byte[] {1}))
            .add(message(ok2, new byte[] {2}));
    Harness.Response r = batch(a, scene.device().session(), messages);
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    JsonArray res = r.body().getJsonArray("results");
    assertThat(res).hasSize(8);
    assertThat(res.getJsonObject(0).getInteger("stored")).isEqualTo(1);
    assertThat(res.getJsonObject(7).getInteger("stored")).isEqualTo(1);
    assertThat(error(res, 1)).containsEntry("status", 400).containsEntry("field", "messages");
    assertThat(res.getJsonObject(1).getValue("id")).isNull();
    assertThat(error(res, 2)).containsEntry("status", 400).containsEntry("field", "id");
    assertThat(res.getJsonObject(2).getValue("id")).isNull();
    assertThat(error(res, 3)).containsEntry("status", 400).containsEntry("field", "ciphertext");
    assertThat(res.getJsonObject(3).getString("id")).isEqualTo(badCopy);
    assertThat(error(res, 4)).containsEntry("status", 400);
    assertThat(error(res, 5)).containsEntry("status", 403).containsEntry("code", "not_a_party");
    assertThat(res.getJsonObject(5).getString("id")).isEqualTo(stranger);
    assertThat(error(res, 6)).containsEntry("status", 404);
    assertThat(pendingIds()).containsExactly(ok1, ok2);
  }

  private static Map<String, Object> error(JsonArray results, int i) {
    JsonObject e = results.getJsonObject(i).getJsonObject("error");
    assertThat(e).as("result " + i + " " + results.getJsonObject(i)).isNotNull();
    return e.getMap();
  }

  List<String> pendingIds() {
    return scene.pending(a, scene.agent().session());
  }

  @Test
  void aReplayedBatchStoresNothingTwiceAndIdsOfAnotherSenderAreRefusedPerMessage() {
    JsonArray messages = new JsonArray();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(UUID.randomUUID().toString());
      messages.add(message(ids.getLast(), new byte[] {(byte) i}));
    }
    assertThat(batch(a, scene.device().session(), messages).status()).isEqualTo(200);
    Harness.Response again = batch(a, scene.device().session(), messages);
    assertThat(again.status()).isEqualTo(200);
    again
        .body()
        .getJsonArray("results")
        .forEach(
            o -> {
              assertThat(((JsonObject) o).getInteger("stored")).isZero();
              assertThat(((JsonObject) o).getInteger("duplicates")).isEqualTo(1);
            });
    assertThat(pendingIds()).containsExactlyElementsOf(ids);
    // the agent sends back under one of the owner's ids: that message alone is refused
    String fresh = UUID.randomUUID().toString();
    JsonArray back =
        new JsonArray()
            .add(
                MessagingFixture.message(
                    ids.get(2), scene.conversation(), scene.device().id(), new byte[] {9}))
            .add(
                MessagingFixture.message(
                    fresh, scene.conversation(), scene.device().id(), new byte[] {9}));
    Harness.Response r = batch(a, scene.agent().session(), back);
    assertThat(r.status()).isEqualTo(200);
    assertThat(error(r.body().getJsonArray("results"), 0))
        .containsEntry("status", 409)
        .containsEntry("code", "message_id_taken");
    assertThat(r.body().getJsonArray("results").getJsonObject(1).getInteger("stored")).isEqualTo(1);
  }

  @Test
  void anOwnersBatchUnderAnIdTheAgentHoldsKeepsNothingOfThatMessageAndStoresTheOthers() {
    // an owner's batch commits behind its claim without waiting for it (docs/messaging.md, "How a
    // send is stored"): an id held by another sender must still abort the whole transaction in
    // PostgreSQL, so no copy of it is kept, and the others are stored again on their own (each in
    // its own transaction, so in no set order)
    String held = UUID.randomUUID().toString();
    Harness.Response agentSent =
        a.call(
            "POST",
            "/v1/workspaces/" + ws() + "/messages",
            scene.agent().session(),
            MessagingFixture.message(
                held, scene.conversation(), scene.device().id(), new byte[] {9}));
    assertThat(agentSent.status()).as(agentSent.body().encode()).isEqualTo(200);
    List<String> fresh = List.of(UUID.randomUUID().toString(), UUID.randomUUID().toString());
    JsonArray messages =
        new JsonArray()
            .add(message(fresh.get(0), new byte[] {1}))
            .add(message(held, new byte[] {2}))
            .add(message(fresh.get(1), new byte[] {3}));
    Harness.Response r = batch(a, scene.device().session(), messages);
    assertThat(r.status()).isEqualTo(200);
    JsonArray results = r.body().getJsonArray("results");
    assertThat(error(results, 1))
        .containsEntry("status", 409)
        .containsEntry("code", "message_id_taken");
    assertThat(results.getJsonObject(0).getInteger("stored")).isEqualTo(1);
    assertThat(results.getJsonObject(2).getInteger("stored")).isEqualTo(1);
    assertThat(pendingIds()).containsExactlyInAnyOrderElementsOf(fresh);
    // alone, the same send is refused the same way, and a resend of a stored one stays a no-op
    Harness.Response alone =
        a.call(
            "POST",
            "/v1/workspaces/" + ws() + "/messages",
            scene.device().session(),
            message(held, new byte[] {2}));
    assertThat(alone.status()).isEqualTo(409);
    assertThat(alone.errorCode()).isEqualTo("message_id_taken");
    JsonObject resent =
        batch(a, scene.device().session(), new JsonArray().add(messages.getValue(0)))
            .body()
            .getJsonArray("results")
            .getJsonObject(0);
    assertThat(resent.getInteger("stored")).isZero();
    assertThat(resent.getInteger("duplicates")).isEqualTo(1);
    assertThat(pendingIds()).containsExactlyInAnyOrderElementsOf(fresh);
  }

  @Test
  void truncatedOversizedAndMalformedBatchesAreRefusedWhole() throws Exception {
    JsonArray ok = new JsonArray().add(message(UUID.randomUUID().toString(), new byte[] {1}));
    String full = new JsonObject().put("messages", ok).encode();
    String truncated = full.substring(0, full.length() / 2);
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 65; i++) {
      tooMany.add(message(UUID.randomUUID().toString(), new byte[] {1}));
    }
    JsonArray tooBig = new JsonArray();
    for (int i = 0; i < 17; i++) {
      tooBig.add(message(UUID.randomUUID().toString(), new byte[MAX_CIPHERTEXT]));
    }
    List<Object> bodies =
        List.of(
            truncated,
            "[]",
            new JsonObject(),
            new JsonObject().put("messages", new JsonArray()),
            new JsonObject().put("messages", "x"),
            new JsonObject().put("messages", ok).put("more", 1),
            new JsonObject().put("messages", tooMany));
    for (Object body : bodies) {
      assertThat(a.call("POST", batchPath(), scene.device().session(), body).status())
          .as(body.toString())
          .isEqualTo(400);
    }
    assertThat(
            a.call(
                    "POST",
                    batchPath(),
                    scene.device().session(),
                    new JsonObject().put("messages", tooBig))
                .status())
        .as("over 1 MiB")
        .isEqualTo(413);
    assertThat(pendingIds()).isEmpty();
  }

  @Test
  void aSocketWithAnUnknownFramesOptionIsRefusedBeforeUpgrading(Vertx vertx) {
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setHost("127.0.0.1")
            .setPort(a.service.actualPort())
            .setURI("/v1/workspaces/" + ws() + "/messages/live?frames=gzip")
            .addHeader("Authorization", "Bearer " + scene.agent().session());
    WebSocketClient client = vertx.createWebSocketClient();
    assertThat(
            client.connect(o).toCompletionStage().toCompletableFuture().handle((w, e) -> e).join())
        .isInstanceOfSatisfying(
            io.vertx.core.http.UpgradeRejectedException.class,
            e -> assertThat(e.getStatus()).isEqualTo(400));
  }

  @Test
  void aMessageCanaryInABatchNeverReachesAnyTableBusMessageOrLogLine(Vertx vertx) throws Exception {
    MessageCanary canary = MessageCanary.watch(a);
    try (canary) {
      ConcurrentLinkedQueue<JsonObject> frames =
          connectBatched(vertx, a, ws(), scene.agent().session());
      JsonArray messages = new JsonArray();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        ids.add(UUID.randomUUID().toString());
        messages.add(message(ids.getLast(), canary.sealed()));
      }
      assertThat(batch(a, scene.device().session(), messages).status()).isEqualTo(200);
      Eventually.await("pushed", Duration.ofSeconds(20), () -> batchedIds(frames).containsAll(ids));
      // the agent answers in a batch too; its copy stays at rest
      JsonArray back =
          new JsonArray()
              .add(
                  MessagingFixture.message(
                      UUID.randomUUID().toString(),
                      scene.conversation(),
                      scene.device().id(),
                      canary.sealed()));
      assertThat(batch(a, scene.agent().session(), back).status()).isEqualTo(200);
    }
    assertThat(canary.sawBusTraffic()).as("notices and audit events crossed the bus").isTrue();
    assertThat(canary.leaks(a)).isEmpty();
  }
}
