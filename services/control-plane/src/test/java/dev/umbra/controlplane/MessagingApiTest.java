package dev.umbra.controlplane;

import static dev.umbra.controlplane.MessagingFixture.b64;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.controlplane.MessagingFixture.Device;
import dev.umbra.controlplane.MessagingFixture.Machine;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Owner-agent messaging over the control plane's API (docs/messaging.md): agents (I2), prekeys,
 * conversations, idempotent messages, acknowledgements, retention, limits, tenancy (I3).
 */
@ExtendWith(VertxExtension.class)
class MessagingApiTest {
  Harness h;
  Harness.Owner alice;
  Device device;
  Machine machine;
  AgentKeys agent;
  String conversation;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    MessagingFixture.Scene scene = MessagingFixture.scene(h, "claude");
    alice = scene.owner();
    device = scene.device();
    machine = scene.machine();
    agent = scene.agent();
    conversation = scene.conversation();
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  String ws() {
    return alice.workspaceId();
  }

  @Test
  void anAgentNeedsProofOfPossessionTheMachinesSignatureAndApprovalWithItsCode() {
    var ed = dev.umbra.crypto.keys.Ed25519KeyPair.generate();
    var x = dev.umbra.crypto.keys.X25519KeyPair.generate();
    JsonObject good = MessagingFixture.enrolBody(h, machine, "codex", ed, x);
    JsonObject badProof = good.copy().put("proof", "00".repeat(64));
    Harness.Response r = h.call("POST", "/v1/agent-enrolments", null, badProof);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorField()).isEqualTo("proof");
    JsonObject badMachine = good.copy().put("signature", good.getString("proof"));
    assertThat(h.call("POST", "/v1/agent-enrolments", null, badMachine).status()).isEqualTo(401);
    JsonObject otherName = good.copy().put("name", "other");
    assertThat(h.call("POST", "/v1/agent-enrolments", null, otherName).status())
        .as("the signatures bind the name")
        .isIn(400, 401);
    AgentKeys pending = MessagingFixture.enrol(h, machine, "pending-one");
    assertThat(
            h.call(
                    "POST",
                    "/v1/agent-sessions",
                    null,
                    MessagingFixture.agentSessionBody(h, pending))
                .status())
        .as("a pending agent gets no session")
        .isEqualTo(401);
    String approval = "/v1/workspaces/" + ws() + "/agents/" + pending.id() + "/approval";
    Harness.Response wrong =
        h.call(
            "POST",
            approval,
            alice.token(),
            new JsonObject().put("verification_code", "0000-0000-0000-0000"));
    assertThat(wrong.status()).isEqualTo(400);
    assertThat(wrong.errorField()).isEqualTo("verification_code");
    assertThat(
            h.call(
                    "POST",
                    approval,
                    alice.token(),
                    new JsonObject().put("verification_code", MessagingFixture.code(pending)))
                .status())
        .isEqualTo(200);
    assertThat(
            h.call(
                    "POST",
                    approval,
                    alice.token(),
                    new JsonObject().put("verification_code", MessagingFixture.code(pending)))
                .errorCode())
        .isEqualTo("not_pending");
    JsonArray listed =
        h.call("GET", "/v1/workspaces/" + ws() + "/agents", alice.token(), null)
            .body()
            .getJsonArray("items");
    assertThat(listed).hasSize(2);
  }

  @Test
  void aReplayedAgentSessionRequestGetsNoTokenEvenInsideItsMinute() {
    JsonObject signed = MessagingFixture.agentSessionBody(h, agent);
    assertThat(h.call("POST", "/v1/agent-sessions", null, signed).status()).isEqualTo(201);
    assertThat(h.call("POST", "/v1/agent-sessions", null, signed).status())
        .as("the same signed request again")
        .isEqualTo(401);
    assertThat(
            h.call("POST", "/v1/agent-sessions", null, MessagingFixture.agentSessionBody(h, agent))
                .status())
        .as("a fresh request, signed later")
        .isEqualTo(201);
  }

  @Test
  void prekeysAreServedToTheOtherSideAndEachOneTimeKeyOnce() {
    String prekeys = "/v1/workspaces/" + ws() + "/prekeys";
    Harness.Response up =
        h.call("POST", prekeys, agent.session(), MessagingFixture.bundle(h, 1, 3));
    assertThat(up.status()).as(up.body().encode()).isEqualTo(200);
    assertThat(up.body().getInteger("one_time_prekeys")).isEqualTo(3);
    Set<Long> handed = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      JsonObject b = h.call("GET", prekeys + "/" + agent.id(), device.session(), null).body();
      handed.add(b.getJsonObject("one_time_prekey").getLong("id"));
    }
    assertThat(handed).containsExactlyInAnyOrder(1L, 2L, 3L);
    Harness.Response exhausted = h.call("GET", prekeys + "/" + agent.id(), device.session(), null);
    assertThat(exhausted.status()).isEqualTo(200);
    assertThat(exhausted.body().getValue("one_time_prekey")).isNull();
    assertThat(
            h.call("GET", "/v1/workspaces/" + ws() + "/prekey-status", agent.session(), null)
                .body()
                .getInteger("one_time_prekeys"))
        .isZero();
    assertThat(h.call("GET", prekeys + "/" + device.id(), device.session(), null).status())
        .as("a device fetches agents' bundles, not devices'")
        .isEqualTo(404);
  }

  @Test
  void aOneTimePrekeyIsHandedOutOnceUnderConcurrency() throws Exception {
    String prekeys = "/v1/workspaces/" + ws() + "/prekeys";
    assertThat(
            h.call("POST", prekeys, agent.session(), MessagingFixture.bundle(h, 100, 5)).status())
        .isEqualTo(200);
    List<Long> ids = new ArrayList<>();
    int none = 0;
    for (JsonObject b : agentBundlesAtOnce(10, 8)) {
      JsonObject otk = b.getJsonObject("one_time_prekey");
      if (otk == null) {
        none++;
      } else {
        ids.add(otk.getLong("id"));
      }
    }
    assertThat(ids).hasSize(5).doesNotHaveDuplicates();
    assertThat(none).isEqualTo(5);
  }

  /** {@code n} fetches of the agent's bundle by the device, {@code threads} at a time. */
  List<JsonObject> agentBundlesAtOnce(int n, int threads) throws Exception {
    String bundle = "/v1/workspaces/" + ws() + "/prekeys/" + agent.id();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<JsonObject>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        all.add(pool.submit(() -> h.call("GET", bundle, device.session(), null).body()));
      }
      List<JsonObject> bodies = new ArrayList<>();
      for (Future<JsonObject> f : all) {
        bodies.add(f.get(60, TimeUnit.SECONDS));
      }
      return bodies;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aFetcherTakesAtMostAFewOfOnePrincipalsOneTimePrekeysAnHour() {
    // fetching in a loop must not use up an agent's one-time prekeys for everyone else
    String prekeys = "/v1/workspaces/" + ws() + "/prekeys";
    assertThat(h.call("POST", prekeys, agent.session(), MessagingFixture.bundle(h, 1, 20)).status())
        .isEqualTo(200);
    for (int i = 0; i < 5; i++) {
      assertThat(
              h.call("GET", prekeys + "/" + agent.id(), device.session(), null)
                  .body()
                  .getJsonObject("one_time_prekey"))
          .isNotNull();
    }
    Harness.Response sixth = h.call("GET", prekeys + "/" + agent.id(), device.session(), null);
    assertThat(sixth.status()).as("the bundle still comes, for X3DH without one").isEqualTo(200);
    assertThat(sixth.body().getString("signed_prekey")).isNotNull();
    assertThat(sixth.body().getValue("one_time_prekey")).isNull();
    assertThat(
            h.call("GET", "/v1/workspaces/" + ws() + "/prekey-status", agent.session(), null)
                .body()
                .getInteger("one_time_prekeys"))
        .isEqualTo(15);

    h.clock.advance(Duration.ofMinutes(61));
    String fresh = MessagingFixture.deviceSession(h, alice.token(), ws(), device.id());

    assertThat(
            h.call("GET", prekeys + "/" + agent.id(), fresh, null)
                .body()
                .getJsonObject("one_time_prekey"))
        .as("an hour later")
        .isNotNull();
  }

  @Test
  void aFetcherFetchingInParallelStillTakesAtMostAFewOfOnePrincipalsOneTimePrekeys()
      throws Exception {
    // the hour's count and the take were two statements: parallel fetches all counted fewer than
    // the limit before any of them took, and each took one
    String prekeys = "/v1/workspaces/" + ws() + "/prekeys";
    assertThat(h.call("POST", prekeys, agent.session(), MessagingFixture.bundle(h, 1, 40)).status())
        .isEqualTo(200);
    int taken = 0;
    for (JsonObject b : agentBundlesAtOnce(40, 20)) {
      assertThat(b.getString("signed_prekey")).as(b.encode()).isNotNull();
      taken += b.getValue("one_time_prekey") == null ? 0 : 1;
    }
    assertThat(taken).isEqualTo(5);
    assertThat(
            h.call("GET", "/v1/workspaces/" + ws() + "/prekey-status", agent.session(), null)
                .body()
                .getInteger("one_time_prekeys"))
        .isEqualTo(35);
  }

  @Test
  void messagesAreIdempotentFetchedInOrderAndDeletedOnAck() {
    String messages = "/v1/workspaces/" + ws() + "/messages";
    String id1 = UUID.randomUUID().toString();
    String id2 = UUID.randomUUID().toString();
    JsonObject m1 = MessagingFixture.message(id1, conversation, agent.id(), new byte[] {1, 2, 3});
    Harness.Response sent = h.call("POST", messages, device.session(), m1);
    assertThat(sent.status()).as(sent.body().encode()).isEqualTo(200);
    assertThat(sent.body().getInteger("stored")).isEqualTo(1);
    Harness.Response again = h.call("POST", messages, device.session(), m1);
    assertThat(again.body().getInteger("stored")).isZero();
    assertThat(again.body().getInteger("duplicates")).isEqualTo(1);
    h.call(
        "POST",
        messages,
        device.session(),
        MessagingFixture.message(id2, conversation, agent.id(), new byte[] {4}));
    JsonArray pending = h.call("GET", messages, agent.session(), null).body().getJsonArray("items");
    assertThat(pending).hasSize(2);
    assertThat(pending.getJsonObject(0).getString("id")).isEqualTo(id1);
    assertThat(pending.getJsonObject(0).getString("ciphertext"))
        .isEqualTo(b64(new byte[] {1, 2, 3}));
    assertThat(pending.getJsonObject(1).getString("id")).isEqualTo(id2);
    JsonObject page = h.call("GET", messages + "?limit=1", agent.session(), null).body();
    assertThat(page.getJsonArray("items")).hasSize(1);
    long next = page.getLong("next_after");
    assertThat(
            h.call("GET", messages + "?after=" + next, agent.session(), null)
                .body()
                .getJsonArray("items")
                .getJsonObject(0)
                .getString("id"))
        .isEqualTo(id2);
    assertThat(h.call("GET", messages, device.session(), null).body().getJsonArray("items"))
        .as("the sender has no copy")
        .isEmpty();
    JsonObject ack = new JsonObject().put("ids", new JsonArray().add(id1));
    assertThat(
            h.call("POST", messages + "/acks", device.session(), ack).body().getInteger("deleted"))
        .as("only the recipient's copy is deleted by its ack")
        .isZero();
    assertThat(
            h.call("POST", messages + "/acks", agent.session(), ack).body().getInteger("deleted"))
        .isEqualTo(1);
    assertThat(
            h.call("POST", messages + "/acks", agent.session(), ack).body().getInteger("deleted"))
        .isZero();
    assertThat(h.call("POST", messages, device.session(), m1).body().getInteger("stored"))
        .as("a resend after the ack is still a no-op")
        .isZero();
    assertThat(h.call("GET", messages, agent.session(), null).body().getJsonArray("items"))
        .hasSize(1);
    // the agent answers on the device
    Harness.Response reply =
        h.call(
            "POST",
            messages,
            agent.session(),
            MessagingFixture.message(
                UUID.randomUUID().toString(), conversation, device.id(), new byte[] {9}));
    assertThat(reply.status()).as(reply.body().encode()).isEqualTo(200);
    assertThat(h.call("GET", messages, device.session(), null).body().getJsonArray("items"))
        .hasSize(1);
    Harness.Response stolen =
        h.call(
            "POST",
            messages,
            agent.session(),
            MessagingFixture.message(id2, conversation, device.id(), new byte[] {9}));
    assertThat(stolen.status()).isEqualTo(409);
    assertThat(stolen.errorCode()).isEqualTo("message_id_taken");
  }

  @Test
  void concurrentSendsAreEachAnsweredAloneWhateverTheyAreStoredWith() throws Exception {
    // concurrent sends of a workspace share transactions (SendGroups): a refused send, a resend or
    // an id held by another sender among them changes nothing for the others
    String messages = "/v1/workspaces/" + ws() + "/messages";
    String stolen = UUID.randomUUID().toString();
    assertThat(
            h.call(
                    "POST",
                    messages,
                    agent.session(),
                    MessagingFixture.message(stolen, conversation, device.id(), new byte[] {7}))
                .status())
        .isEqualTo(200);
    List<String> fresh = new ArrayList<>();
    List<JsonObject> bodies = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String id = UUID.randomUUID().toString();
      switch (i % 5) {
        case 1 -> {
          bodies.add(MessagingFixture.message(stolen, conversation, agent.id(), new byte[] {1}));
          expected.add("message_id_taken");
        }
        case 2 -> {
          bodies.add(MessagingFixture.message(id, conversation, device.id(), new byte[] {1}));
          expected.add("not_a_party");
        }
        default -> {
          fresh.add(id);
          JsonObject m = MessagingFixture.message(id, conversation, agent.id(), new byte[] {2});
          bodies.add(m);
          bodies.add(m); // the same id twice at once: stored once
          expected.add("ok");
          expected.add("ok");
        }
      }
    }
    ExecutorService pool = Executors.newFixedThreadPool(12);
    try {
      List<Future<Harness.Response>> all = new ArrayList<>();
      for (JsonObject b : bodies) {
        all.add(pool.submit(() -> h.call("POST", messages, device.session(), b)));
      }
      Map<String, Integer> stored = new java.util.HashMap<>();
      for (int i = 0; i < all.size(); i++) {
        Harness.Response r = all.get(i).get(60, TimeUnit.SECONDS);
        switch (expected.get(i)) {
          case "ok" -> {
            assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
            stored.merge(
                bodies.get(i).getString("id"), r.body().getInteger("stored"), Integer::sum);
          }
          case "message_id_taken" -> {
            assertThat(r.status()).isEqualTo(409);
            assertThat(r.errorCode()).isEqualTo("message_id_taken");
          }
          default -> {
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.errorCode()).isEqualTo("not_a_party");
          }
        }
      }
      assertThat(stored).hasSize(fresh.size()).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    } finally {
      pool.shutdownNow();
    }
    List<String> pending = new ArrayList<>();
    h.call("GET", messages + "?limit=100", agent.session(), null)
        .body()
        .getJsonArray("items")
        .forEach(o -> pending.add(((JsonObject) o).getString("id")));
    assertThat(pending).as("each accepted id once").containsExactlyInAnyOrderElementsOf(fresh);
    assertThat(h.call("GET", messages, device.session(), null).body().getJsonArray("items"))
        .as("the stolen id's message to the device is untouched")
        .hasSize(1);
  }

  @Test
  void copiesOnlyGoToTheConversationsOtherSide() {
    String messages = "/v1/workspaces/" + ws() + "/messages";
    Harness.Response toSelf =
        h.call(
            "POST",
            messages,
            device.session(),
            MessagingFixture.message(
                UUID.randomUUID().toString(), conversation, device.id(), new byte[] {1}));
    assertThat(toSelf.status()).isEqualTo(403);
    assertThat(toSelf.errorCode()).isEqualTo("not_a_party");
    Harness.Response unknownConversation =
        h.call(
            "POST",
            messages,
            device.session(),
            MessagingFixture.message(
                UUID.randomUUID().toString(),
                UUID.randomUUID().toString(),
                agent.id(),
                new byte[] {1}));
    assertThat(unknownConversation.status()).isEqualTo(404);
    JsonArray recipients =
        h.call(
                "GET",
                "/v1/workspaces/" + ws() + "/conversations/" + conversation + "/recipients",
                agent.session(),
                null)
            .body()
            .getJsonArray("items");
    assertThat(recipients).hasSize(1);
    assertThat(recipients.getJsonObject(0).getString("id")).isEqualTo(device.id().toString());
  }

  @Test
  void oversizedAndMalformedBodiesAreRefusedNamingTheField() {
    String messages = "/v1/workspaces/" + ws() + "/messages";
    String id = UUID.randomUUID().toString();
    Harness.Response big =
        h.call(
            "POST",
            messages,
            device.session(),
            MessagingFixture.message(id, conversation, agent.id(), new byte[64 * 1024 + 1]));
    assertThat(big.status()).isEqualTo(400);
    assertThat(big.errorField()).isEqualTo("ciphertext");
    JsonObject badB64 = MessagingFixture.message(id, conversation, agent.id(), new byte[] {1});
    badB64.getJsonArray("copies").getJsonObject(0).put("ciphertext", "***");
    assertThat(h.call("POST", messages, device.session(), badB64).errorField())
        .isEqualTo("ciphertext");
    JsonObject extra =
        MessagingFixture.message(id, conversation, agent.id(), new byte[] {1}).put("text", "hi");
    assertThat(h.call("POST", messages, device.session(), extra).errorField()).isEqualTo("text");
    JsonObject noId = MessagingFixture.message("nope", conversation, agent.id(), new byte[] {1});
    assertThat(h.call("POST", messages, device.session(), noId).errorField()).isEqualTo("id");
    JsonArray many = new JsonArray();
    for (int i = 0; i < 11; i++) {
      many.add(
          new JsonObject()
              .put("recipient_id", UUID.randomUUID().toString())
              .put("ciphertext", "AQ=="));
    }
    JsonObject tooMany =
        new JsonObject().put("id", id).put("conversation_id", conversation).put("copies", many);
    assertThat(h.call("POST", messages, device.session(), tooMany).errorField())
        .isEqualTo("copies");
    assertThat(h.call("POST", messages, device.session(), "{not json").status()).isEqualTo(400);
    String prekeys = "/v1/workspaces/" + ws() + "/prekeys";
    Harness.Response tooManyKeys =
        h.call("POST", prekeys, agent.session(), MessagingFixture.bundle(h, 0, 101));
    assertThat(tooManyKeys.errorField()).isEqualTo("one_time_prekeys");
    for (int i = 0; i < 5; i++) {
      assertThat(
              h.call("POST", prekeys, agent.session(), MessagingFixture.bundle(h, i * 100, 100))
                  .status())
          .isEqualTo(200);
    }
    Harness.Response full =
        h.call("POST", prekeys, agent.session(), MessagingFixture.bundle(h, 10_000, 1));
    assertThat(full.status()).isEqualTo(409);
    assertThat(full.errorCode()).isEqualTo("too_many_prekeys");
    JsonObject shortKey = MessagingFixture.bundle(h, 0, 0).put("identity_key", b64(new byte[5]));
    assertThat(h.call("POST", prekeys, agent.session(), shortKey).errorField())
        .isEqualTo("identity_key");
    assertThat(h.call("GET", messages + "?limit=0", agent.session(), null).errorField())
        .isEqualTo("limit");
  }

  @Test
  void retentionDeletesCopiesOlderThanThePeriod() throws Exception {
    String messages = "/v1/workspaces/" + ws() + "/messages";
    h.call(
        "POST",
        messages,
        device.session(),
        MessagingFixture.message(
            UUID.randomUUID().toString(), conversation, agent.id(), new byte[] {1}));
    assertThat(sweep()).isZero();
    h.clock.advance(Duration.ofDays(15));
    String fresh = UUID.randomUUID().toString();
    // the sessions were minted 15 days ago: new ones
    String deviceSession = MessagingFixture.deviceSession(h, alice.token(), ws(), device.id());
    h.call(
        "POST",
        messages,
        deviceSession,
        MessagingFixture.message(fresh, conversation, agent.id(), new byte[] {2}));
    assertThat(sweep()).isEqualTo(1);
    JsonArray left =
        h.call("GET", messages, MessagingFixture.agentSession(h, agent), null)
            .body()
            .getJsonArray("items");
    assertThat(left).hasSize(1);
    assertThat(left.getJsonObject(0).getString("id")).isEqualTo(fresh);
  }

  private int sweep() throws Exception {
    return h.service
        .messaging()
        .sweep()
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  void aRevokedAgentCanNeitherFetchNorSendNorReceive() {
    String base = "/v1/workspaces/" + ws();
    assertThat(
            h.call("POST", base + "/prekeys", agent.session(), MessagingFixture.bundle(h, 1, 2))
                .status())
        .isEqualTo(200);
    Harness.Response revoked =
        h.call(
            "POST",
            base + "/agents/" + agent.id() + "/revocation",
            alice.token(),
            new JsonObject());
    assertThat(revoked.status()).as(revoked.body().encode()).isEqualTo(200);
    Eventually.await(
        "the revocation reaches the list",
        Duration.ofSeconds(20),
        () -> h.call("GET", base + "/messages", agent.session(), null).status() == 403);
    assertThat(h.call("GET", base + "/prekey-status", agent.session(), null).status())
        .isEqualTo(403);
    assertThat(
            h.call(
                    "POST",
                    base + "/messages",
                    agent.session(),
                    MessagingFixture.message(
                        UUID.randomUUID().toString(), conversation, device.id(), new byte[] {1}))
                .status())
        .isEqualTo(403);
    assertThat(h.call("GET", base + "/prekeys/" + agent.id(), device.session(), null).status())
        .as("its bundle is gone")
        .isEqualTo(404);
    Harness.Response toRevoked =
        h.call(
            "POST",
            base + "/messages",
            device.session(),
            MessagingFixture.message(
                UUID.randomUUID().toString(), conversation, agent.id(), new byte[] {1}));
    assertThat(toRevoked.status()).isEqualTo(403);
    assertThat(
            h.call("POST", "/v1/agent-sessions", null, MessagingFixture.agentSessionBody(h, agent))
                .status())
        .isEqualTo(401);
  }

  @Test
  void aRevokedDeviceCanNeitherFetchNorSendNorReceive() {
    String base = "/v1/workspaces/" + ws();
    assertThat(
            h.call("POST", base + "/prekeys", device.session(), MessagingFixture.bundle(h, 1, 2))
                .status())
        .isEqualTo(200);
    Harness.Response revoked = MessagingFixture.revoke(h, device);
    assertThat(revoked.status()).as(revoked.body().encode()).isEqualTo(200);
    Eventually.await(
        "the revocation reaches the list",
        Duration.ofSeconds(20),
        () -> h.call("GET", base + "/messages", device.session(), null).status() == 403);
    assertThat(h.call("GET", base + "/prekeys/" + agent.id(), device.session(), null).status())
        .isEqualTo(403);
    assertThat(
            h.call(
                    "POST",
                    base + "/messages",
                    device.session(),
                    MessagingFixture.message(
                        UUID.randomUUID().toString(), conversation, agent.id(), new byte[] {1}))
                .status())
        .isEqualTo(403);
    assertThat(h.call("GET", base + "/prekeys/" + device.id(), agent.session(), null).status())
        .as("nobody fetches a revoked device's bundle")
        .isEqualTo(404);
    Harness.Response toRevoked =
        h.call(
            "POST",
            base + "/messages",
            agent.session(),
            MessagingFixture.message(
                UUID.randomUUID().toString(), conversation, device.id(), new byte[] {1}));
    assertThat(toRevoked.status()).isEqualTo(403);
    assertThat(toRevoked.errorCode()).isEqualTo("not_a_party");
    assertThat(
            h.call(
                    "POST",
                    "/v1/sessions",
                    alice.token(),
                    new JsonObject()
                        .put("workspace_id", ws())
                        .put("audience", "control-plane")
                        .put("device_id", device.id().toString()))
                .status())
        .as("no new session for a revoked device")
        .isEqualTo(403);
  }

  @Test
  void apiTokensAndOtherWorkspacesSessionsAreRefusedOnEveryMessagingRoute() {
    String wsB =
        h.call("POST", "/v1/workspaces", alice.token(), new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    Device other = MessagingFixture.protect(h, alice.token(), wsB, alice.accountId());
    String base = "/v1/workspaces/" + ws();
    List<String[]> routes =
        List.of(
            new String[] {"POST", base + "/prekeys"},
            new String[] {"GET", base + "/prekeys/" + agent.id()},
            new String[] {"GET", base + "/prekey-status"},
            new String[] {"POST", base + "/conversations"},
            new String[] {"GET", base + "/conversations"},
            new String[] {"GET", base + "/conversations/" + conversation + "/recipients"},
            new String[] {"POST", base + "/messages"},
            new String[] {"POST", base + "/messages/batch"},
            new String[] {"GET", base + "/messages"},
            new String[] {"POST", base + "/messages/acks"});
    for (String[] r : routes) {
      JsonObject body = r[0].equals("POST") ? new JsonObject() : null;
      Harness.Response cross = h.call(r[0], r[1], other.session(), body);
      assertThat(cross.status()).as("cross-workspace " + r[0] + " " + r[1]).isEqualTo(403);
      assertThat(h.call(r[0], r[1], alice.token(), body).status())
          .as("API token " + r[0] + " " + r[1])
          .isEqualTo(401);
      assertThat(h.call(r[0], r[1], null, body).status()).isEqualTo(401);
    }
    String agentRoute = "/v1/workspaces/" + wsB + "/agents/" + agent.id();
    assertThat(h.call("GET", agentRoute, alice.token(), null).status())
        .as("an agent is found only in its workspace")
        .isEqualTo(404);
    assertThat(
            h.call(
                    "POST",
                    agentRoute + "/approval",
                    alice.token(),
                    new JsonObject().put("verification_code", MessagingFixture.code(agent)))
                .status())
        .isEqualTo(404);
  }
}
