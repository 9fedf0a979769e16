package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.controlplane.MessagingFixture.Device;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.secret.BusNoticeMacs;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Live delivery across two control-plane instances (A1, A3): the sender on A, the recipient's
 * socket on B; B dies abruptly mid-conversation; after reconnecting to A and a pending fetch no
 * message is lost and each id is seen once. And the blindness canary for messages.
 */
@ExtendWith(VertxExtension.class)
class MessageDeliveryTest {
  Harness a;
  MessagingFixture.Scene scene;
  Harness.Owner alice;
  Device device;
  AgentKeys agent;
  String conversation;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(a, "claude");
    alice = scene.owner();
    device = scene.device();
    agent = scene.agent();
    conversation = scene.conversation();
  }

  @AfterEach
  void stop() throws Exception {
    a.close();
  }

  /**
   * A client socket collecting the frames it receives; it holds its {@code client}: Vert.x closes a
   * client that has become unreachable, and a collection mid-handshake failed the upgrade
   * ("Connection closed while handshake in process") or later closed the socket under the test.
   */
  record Client(WebSocket ws, ConcurrentLinkedQueue<JsonObject> frames, WebSocketClient client) {
    List<String> messageIds() {
      List<String> out = new ArrayList<>();
      for (JsonObject f : frames) {
        if ("message".equals(f.getString("type"))) {
          out.add(f.getJsonObject("message").getString("id"));
        }
      }
      return out;
    }

    boolean ready() {
      return frames.stream().anyMatch(f -> "ready".equals(f.getString("type")));
    }
  }

  static Client connect(Vertx vertx, Harness h, String ws, String token) throws Exception {
    return connect(vertx, h, ws, token, "");
  }

  /** {@code query}: appended to the live route's path (e.g. {@code ?frames=batch}). */
  static Client connect(Vertx vertx, Harness h, String ws, String token, String query)
      throws Exception {
    Client c = upgrade(vertx, h, ws, token, query);
    Eventually.await("socket ready", Duration.ofSeconds(20), c::ready);
    return c;
  }

  /** A live socket, upgraded, collecting its frames from the first (not waiting for ready). */
  static Client upgrade(Vertx vertx, Harness h, String ws, String token, String query)
      throws Exception {
    ConcurrentLinkedQueue<JsonObject> frames = new ConcurrentLinkedQueue<>();
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setHost("127.0.0.1")
            .setPort(h.service.actualPort())
            .setURI("/v1/workspaces/" + ws + "/messages/live" + query)
            .addHeader("Authorization", "Bearer " + token);
    WebSocketClient client = vertx.createWebSocketClient();
    WebSocket socket =
        client
            .connect(o)
            .map(
                w -> {
                  w.textMessageHandler(t -> frames.add(new JsonObject(t)));
                  return w;
                })
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    return new Client(socket, frames, client);
  }

  String send(Harness h, byte[] ciphertext) {
    return MessagingFixture.send(h, scene, ciphertext);
  }

  List<String> pending(Harness h) {
    List<String> out = new ArrayList<>();
    JsonArray items =
        h.call("GET", "/v1/workspaces/" + alice.workspaceId() + "/messages", agent.session(), null)
            .body()
            .getJsonArray("items");
    items.forEach(i -> out.add(((JsonObject) i).getString("id")));
    return out;
  }

  @Test
  void noMessageIsLostOrDuplicatedWhenTheInstanceHoldingTheSocketDies(Vertx vertx)
      throws Exception {
    Vertx vertxB = Vertx.vertx();
    Harness b = new Harness(vertxB, a);
    Client onB = connect(vertx, b, alice.workspaceId(), agent.session());
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      sent.add(send(a, new byte[] {(byte) i}));
    }
    Eventually.await(
        "pushed across instances", Duration.ofSeconds(20), () -> onB.messageIds().size() == 10);
    assertThat(onB.messageIds()).containsExactlyElementsOf(sent);
    // the client acknowledges the first five, then the instance holding its socket dies
    JsonArray firstFive = new JsonArray();
    sent.subList(0, 5).forEach(firstFive::add);
    onB.ws().writeTextMessage(new JsonObject().put("type", "ack").put("ids", firstFive).encode());
    Eventually.await(
        "acked",
        Duration.ofSeconds(20),
        () -> onB.frames().stream().anyMatch(f -> "acked".equals(f.getString("type"))));
    vertxB.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    for (int i = 10; i < 20; i++) {
      sent.add(send(a, new byte[] {(byte) i}));
    }
    // the client reconnects to the other instance, then fetches what it has not acknowledged
    Client onA = connect(vertx, a, alice.workspaceId(), agent.session());
    Set<String> shown = new LinkedHashSet<>(onB.messageIds());
    List<String> fetched = pending(a);
    assertThat(fetched).doesNotHaveDuplicates().doesNotContainAnyElementsOf(sent.subList(0, 5));
    shown.addAll(fetched);
    sent.add(send(a, new byte[] {42}));
    Eventually.await(
        "live on the surviving instance",
        Duration.ofSeconds(20),
        () -> onA.messageIds().size() == 1);
    shown.addAll(onA.messageIds());
    assertThat(shown).containsExactlyInAnyOrderElementsOf(sent);
    JsonArray all = new JsonArray();
    sent.subList(5, sent.size()).forEach(all::add);
    assertThat(
            a.call(
                    "POST",
                    "/v1/workspaces/" + alice.workspaceId() + "/messages/acks",
                    agent.session(),
                    new JsonObject().put("ids", all))
                .body()
                .getInteger("deleted"))
        .isEqualTo(16);
    assertThat(pending(a)).isEmpty();
    onA.ws().close();
  }

  @Test
  void aRevokedAgentsSocketIsClosed(Vertx vertx) throws Exception {
    Client c = connect(vertx, a, alice.workspaceId(), agent.session());
    List<Short> closed = new CopyOnWriteArrayList<>();
    c.ws().closeHandler(v -> closed.add(c.ws().closeStatusCode()));
    a.call(
        "POST",
        "/v1/workspaces/" + alice.workspaceId() + "/agents/" + agent.id() + "/revocation",
        alice.token(),
        new JsonObject());
    Eventually.await("closed", Duration.ofSeconds(20), () -> !closed.isEmpty());
    assertThat(closed).containsExactly((short) 4403);
  }

  @Test
  void aCanaryReachesNoTableAuditEventBusMessageOrLogAndItsCiphertextOnlyMacdNotices(Vertx vertx)
      throws Exception {
    MessageCanary canary = MessageCanary.watch(a);
    byte[] ciphertext;
    try (canary) {
      Client c = connect(vertx, a, alice.workspaceId(), agent.session());
      // what the owner's client sends: the canary encrypted (XChaCha20-Poly1305)
      ciphertext = canary.sealed();
      String id = send(a, ciphertext);
      Eventually.await("pushed", Duration.ofSeconds(20), () -> c.messageIds().contains(id));
      c.ws()
          .writeTextMessage(
              new JsonObject().put("type", "ack").put("ids", new JsonArray().add(id)).encode());
      Eventually.await(
          "acked",
          Duration.ofSeconds(20),
          () -> c.frames().stream().anyMatch(f -> "acked".equals(f.getString("type"))));
      send(a, ciphertext); // a copy left at rest
    }
    assertThat(canary.sawBusTraffic()).as("audit events crossed the bus").isTrue();
    assertThat(canary.leaks(a)).isEmpty();
    // the ciphertext (never the plaintext) crossed the bus, and only in the two notices carrying
    // its copies, each MAC'd for the recipient's channel (docs/messaging.md, "Notices on the bus")
    Eventually.await(
        "both notices recorded",
        Duration.ofSeconds(20),
        () -> canary.busMessagesHolding(ciphertext).size() >= 2);
    List<Map.Entry<String, byte[]>> carried = canary.busMessagesHolding(ciphertext);
    assertThat(carried).hasSize(2);
    String domain = CryptoConstants.MESSAGE_NOTICE_DOMAIN;
    byte[] key = BusNoticeMacs.key(Harness.INTERNAL, domain);
    String ws = alice.workspaceId();
    String channel = BusNames.messageRecipient(UUID.fromString(ws), agent.id());
    int header = 1 + Long.BYTES + 32;
    for (Map.Entry<String, byte[]> m : carried) {
      assertThat(m.getKey()).endsWith(channel);
      // sealed (SealedNotices): 0x01 || u64be(millis) || mac || notice
      byte[] body = m.getValue();
      assertThat(body[0]).isEqualTo((byte) 1);
      assertThat(
              BusNoticeMacs.verify(
                  key,
                  domain,
                  channel,
                  java.nio.ByteBuffer.wrap(body, 1, Long.BYTES).getLong(),
                  Arrays.copyOfRange(body, header, body.length),
                  Arrays.copyOfRange(body, 1 + Long.BYTES, header)))
          .as("the notice's MAC holds for the recipient's channel at its time")
          .isTrue();
    }
  }
}
