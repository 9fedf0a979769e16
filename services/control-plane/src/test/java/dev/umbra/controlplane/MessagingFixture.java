package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.agents.Agent;
import dev.umbra.controlplane.agents.AgentService;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.VerificationCodes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Real set-up for messaging tests through the API: a protected workspace with its owner's trusted
 * device and that device's control-plane session, a paired machine with a key of the test, an agent
 * enrolled from it, approved, with its session.
 */
final class MessagingFixture {
  static final HexFormat HEX = HexFormat.of();

  private MessagingFixture() {}

  /** A member's trusted device and its messaging session token. */
  record Device(
      String ws,
      UUID id,
      String apiToken,
      String account,
      String session,
      Ed25519KeyPair signing) {}

  /** A machine binding whose key the test holds. */
  record Machine(String ws, UUID id, Ed25519KeyPair key) {}

  /** An enrolled agent with its keys; {@code session} null until approved. */
  record AgentKeys(
      String ws, UUID id, String name, Ed25519KeyPair ed, X25519KeyPair x, String session) {}

  /**
   * An owner, her trusted device, a machine, her agent approved from it and their conversation; and
   * the calls the messaging tests make there, on the instance {@code h} they are given.
   */
  record Scene(
      Harness.Owner owner, Device device, Machine machine, AgentKeys agent, String conversation) {
    String ws() {
      return owner.workspaceId();
    }

    /** {@code session}'s party sends one copy for {@code recipient}, as message {@code id}. */
    Harness.Response send(
        Harness h, String session, String conversation, UUID recipient, String id) {
      return h.call(
          "POST",
          "/v1/workspaces/" + ws() + "/messages",
          session,
          message(id, conversation, recipient, new byte[] {1}));
    }

    /** {@code session}'s party sends one copy for {@code recipient}, under a fresh id. */
    Harness.Response send(Harness h, String session, String conversation, UUID recipient) {
      return send(h, session, conversation, recipient, UUID.randomUUID().toString());
    }

    /** The device sends its agent a fresh message in their conversation. */
    Harness.Response fromDevice(Harness h) {
      return send(h, device.session(), conversation, agent.id());
    }

    /** The agent sends the device a fresh message in their conversation. */
    Harness.Response fromAgent(Harness h) {
      return send(h, agent.session(), conversation, device.id());
    }

    /** The ids pending for the party of {@code session} here, oldest first. */
    List<String> pending(Harness h, String session) {
      return MessagingFixture.pending(h, ws(), session);
    }

    /** The party of {@code session} acknowledges {@code ids} here. */
    Harness.Response ack(Harness h, String session, List<String> ids) {
      return h.call(
          "POST",
          "/v1/workspaces/" + ws() + "/messages/acks",
          session,
          new JsonObject().put("ids", new JsonArray(new ArrayList<Object>(ids))));
    }
  }

  /** Bootstraps workspace "A": its owner, her device, an approved agent {@code name}. */
  static Scene scene(Harness h, String name) {
    Harness.Owner owner = h.bootstrap("A");
    Device device = protect(h, owner.token(), owner.workspaceId(), owner.accountId());
    Machine machine = machine(h, owner.workspaceId());
    AgentKeys agent = approvedAgent(h, owner.token(), machine, name);
    return new Scene(owner, device, machine, agent, conversation(h, device, agent));
  }

  /** Another agent of the scene's workspace and its conversation with the scene's device. */
  record Peer(AgentKeys agent, String conversation) {}

  /** Approves an agent {@code name} on a machine of its own and opens its conversation. */
  static Peer peer(Harness h, Scene scene, String name) {
    AgentKeys agent = approvedAgent(h, scene.owner().token(), machine(h, scene.ws()), name);
    return new Peer(agent, conversation(h, scene.device(), agent));
  }

  /** The scene owner's second workspace: its id, her device there, an agent there, their chat. */
  record OtherWorkspace(String ws, Device device, AgentKeys agent, String conversation) {
    /**
     * The device here sends {@code ciphertext} to the agent here on {@code h}; the message's id.
     */
    String send(Harness h, byte[] ciphertext) {
      String id = UUID.randomUUID().toString();
      Harness.Response r =
          h.call(
              "POST",
              "/v1/workspaces/" + ws + "/messages",
              device.session(),
              message(id, conversation, agent.id(), ciphertext));
      assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
      return id;
    }
  }

  /** Creates the scene owner's workspace "B" with her device, an agent "other", a conversation. */
  static OtherWorkspace otherWorkspace(Harness h, Scene scene) {
    String ws =
        h.call("POST", "/v1/workspaces", scene.owner().token(), new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    Device device = protect(h, scene.owner().token(), ws, scene.owner().accountId());
    AgentKeys agent = approvedAgent(h, scene.owner().token(), machine(h, ws), "other");
    return new OtherWorkspace(ws, device, agent, conversation(h, device, agent));
  }

  /** Creates the workspace keyset with the caller's first trusted device; its session token. */
  static Device protect(Harness h, String apiToken, String ws, String account) {
    Ed25519KeyPair s = Ed25519KeyPair.generate();
    X25519KeyPair e = X25519KeyPair.generate();
    UUID dev = UUID.randomUUID();
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    P256KeyPair p = P256KeyPair.generate();
    Map<String, Object> req = new TreeMap<>();
    req.put("type", "umbra-device-request/v1");
    req.put("workspace_id", ws);
    req.put("device_id", dev.toString());
    req.put("ed25519_public_key", ed.publicKey().toHex());
    req.put("p256_public_key", p.publicKey().toHex());
    req.put("name", "laptop");
    req.put("kind", "cli");
    req.put("timestamp_ms", h.clock.millis());
    JsonObject body =
        new JsonObject()
            .put("keyset", DeviceTrustApiTest.signed(DeviceTrustApiTest.keyset(ws, 1, s, e), s))
            .put("request", DeviceTrustApiTest.signed(req, ed))
            .put(
                "credential",
                DeviceTrustApiTest.signed(DeviceTrustApiTest.credential(ws, dev, ed, p, 1), s))
            .put("envelope", DeviceTrustApiTest.envelope(p));
    Harness.Response created = h.call("POST", "/v1/workspaces/" + ws + "/keyset", apiToken, body);
    assertThat(created.status()).as(created.body().encode()).isEqualTo(201);
    return new Device(ws, dev, apiToken, account, deviceSession(h, apiToken, ws, dev), s);
  }

  /** Revokes the device with a revocation signed by the workspace key. */
  static Harness.Response revoke(Harness h, Device d) {
    Map<String, Object> rev = new TreeMap<>();
    rev.put("type", "umbra-device-revocation/v1");
    rev.put("workspace_id", d.ws());
    rev.put("device_id", d.id().toString());
    rev.put("revoked_at", "2026-11-26T00:00:00Z");
    return h.call(
        "POST",
        "/v1/workspaces/" + d.ws() + "/devices/" + d.id() + "/revocation",
        d.apiToken(),
        new JsonObject().put("revocation", DeviceTrustApiTest.signed(rev, d.signing())));
  }

  static String deviceSession(Harness h, String apiToken, String ws, UUID device) {
    Harness.Response r =
        h.call(
            "POST",
            "/v1/sessions",
            apiToken,
            new JsonObject()
                .put("workspace_id", ws)
                .put("audience", "control-plane")
                .put("device_id", device.toString()));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(201);
    return r.body().getString("token");
  }

  static Machine machine(Harness h, String ws) {
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    Harness.Response r =
        h.call(
            "POST",
            "/internal/v1/workspaces/" + ws + "/machines",
            null,
            new JsonObject()
                .put("install_id", UUID.randomUUID().toString())
                .put("x25519_public_key", "11".repeat(32))
                .put("ed25519_public_key", key.publicKey().toHex())
                .put("name", "box")
                .put("os", "linux"),
            Map.of("X-Umbra-Internal", Harness.INTERNAL));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(201);
    return new Machine(ws, UUID.fromString(r.body().getString("id")), key);
  }

  static JsonObject enrolBody(
      Harness h, Machine m, String name, Ed25519KeyPair ed, X25519KeyPair x) {
    long ts = h.clock.millis();
    byte[] msg =
        AgentService.enrolMessage(
            UUID.fromString(m.ws()),
            m.id(),
            name,
            ed.publicKey().toBytes(),
            x.publicKey().toBytes(),
            ts);
    return new JsonObject()
        .put("workspace_id", m.ws())
        .put("machine_id", m.id().toString())
        .put("timestamp_ms", ts)
        .put("signature", HEX.formatHex(m.key().privateKey().sign(msg)))
        .put("name", name)
        .put("ed25519_public_key", ed.publicKey().toHex())
        .put("x25519_public_key", x.publicKey().toHex())
        .put("proof", HEX.formatHex(ed.privateKey().sign(msg)));
  }

  /** Enrols (pending). */
  static AgentKeys enrol(Harness h, Machine m, String name) {
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    X25519KeyPair x = X25519KeyPair.generate();
    Harness.Response r = h.call("POST", "/v1/agent-enrolments", null, enrolBody(h, m, name, ed, x));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(201);
    assertThat(r.body().getString("status")).isEqualTo("pending");
    return new AgentKeys(m.ws(), UUID.fromString(r.body().getString("id")), name, ed, x, null);
  }

  static String code(AgentKeys a) {
    return VerificationCodes.derive(
        Agent.keysPayload(
            UUID.fromString(a.ws()),
            a.name(),
            a.ed().publicKey().toBytes(),
            a.x().publicKey().toBytes()));
  }

  /** Enrols, approves with the code, and gets the agent's session. */
  static AgentKeys approvedAgent(Harness h, String adminToken, Machine m, String name) {
    AgentKeys a = enrol(h, m, name);
    Harness.Response ok =
        h.call(
            "POST",
            "/v1/workspaces/" + a.ws() + "/agents/" + a.id() + "/approval",
            adminToken,
            new JsonObject().put("verification_code", code(a)));
    assertThat(ok.status()).as(ok.body().encode()).isEqualTo(200);
    return new AgentKeys(a.ws(), a.id(), name, a.ed(), a.x(), agentSession(h, a));
  }

  static JsonObject agentSessionBody(Harness h, AgentKeys a) {
    h.clock.advance(java.time.Duration.ofMillis(1)); // each request signs a later time
    long ts = h.clock.millis();
    byte[] msg = AgentService.sessionMessage(UUID.fromString(a.ws()), a.id(), ts);
    return new JsonObject()
        .put("workspace_id", a.ws())
        .put("agent_id", a.id().toString())
        .put("timestamp_ms", ts)
        .put("signature", HEX.formatHex(a.ed().privateKey().sign(msg)));
  }

  static String agentSession(Harness h, AgentKeys a) {
    Harness.Response r = h.call("POST", "/v1/agent-sessions", null, agentSessionBody(h, a));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(201);
    return r.body().getString("token");
  }

  static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  /** A prekey bundle upload with {@code n} one-time keys numbered from {@code first}. */
  static JsonObject bundle(Harness h, int first, int n) {
    JsonArray otks = new JsonArray();
    for (int i = 0; i < n; i++) {
      otks.add(
          new JsonObject()
              .put("id", first + i)
              .put("public_key", b64(X25519KeyPair.generate().publicKey().toBytes())));
    }
    return new JsonObject()
        .put("identity_key", b64(X25519KeyPair.generate().publicKey().toBytes()))
        .put("signed_prekey", b64(new byte[96]))
        .put("signed_prekey_id", 1)
        .put(
            "signed_prekey_expires_at",
            Instant.ofEpochMilli(h.clock.millis()).plus(30, ChronoUnit.DAYS).toString())
        .put("one_time_prekeys", otks);
  }

  /** Opens the device's conversation with the agent; its id. */
  static String conversation(Harness h, Device d, AgentKeys a) {
    Harness.Response r =
        h.call(
            "POST",
            "/v1/workspaces/" + d.ws() + "/conversations",
            d.session(),
            new JsonObject().put("agent_id", a.id().toString()));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    return r.body().getString("id");
  }

  /** The scene's device sends {@code ciphertext} to its agent on {@code h}; the message's id. */
  static String send(Harness h, Scene scene, byte[] ciphertext) {
    String id = UUID.randomUUID().toString();
    Harness.Response r =
        h.call(
            "POST",
            "/v1/workspaces/" + scene.owner().workspaceId() + "/messages",
            scene.device().session(),
            message(id, scene.conversation(), scene.agent().id(), ciphertext));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    return id;
  }

  /** The ids pending for the party of {@code session} in workspace {@code ws}, oldest first. */
  static List<String> pending(Harness h, String ws, String session) {
    Harness.Response r = h.call("GET", "/v1/workspaces/" + ws + "/messages", session, null);
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    return r.body().getJsonArray("items").stream()
        .map(i -> ((JsonObject) i).getString("id"))
        .toList();
  }

  /** {@code r} is a refusal with {@code status} and error {@code code}. */
  static void refused(Harness.Response r, int status, String code) {
    assertThat(r.status()).as(r.body().encode()).isEqualTo(status);
    assertThat(r.errorCode()).isEqualTo(code);
  }

  /** Runs {@code sql} (one row changed, {@code id} its parameter) as the schema's owner. */
  static void asOwner(Harness h, String sql, UUID id) throws Exception {
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setObject(1, id);
      assertThat(st.executeUpdate()).as(sql).isEqualTo(1);
    }
  }

  /** The count {@code sql} ({@code id} its parameter) reads as the schema's owner. */
  static long ownerCount(Harness h, String sql, UUID id) throws Exception {
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setObject(1, id);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * The result of {@code f} within 30 s; its failure thrown as it is when it is a runtime one (a
   * {@code PgException}, say).
   */
  static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  static JsonObject message(String id, String conversation, UUID recipient, byte[] ciphertext) {
    return new JsonObject()
        .put("id", id)
        .put("conversation_id", conversation)
        .put(
            "copies",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("recipient_id", recipient.toString())
                        .put("ciphertext", b64(ciphertext))));
  }
}
