package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.envelope.WorkspaceKeyEnvelopes;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The machine WebTTY policy routes over real HTTP, PostgreSQL and Redis (docs/control-plane.md,
 * docs/webtty.md "Server policy"): admins set a document signed by one of their own trusted devices
 * with a higher version; members read; the machine fetches with its own signature; another
 * workspace's machine is not found. The daemon's own verification is tested in the daemon and end
 * to end in the CLI module.
 */
@ExtendWith(VertxExtension.class)
class TtyPolicyApiTest {
  static final HexFormat HEX = HexFormat.of();
  Harness h;
  String alice;
  String ws;
  String bob;
  String mia;
  Ed25519KeyPair workspaceKey;
  UUID aliceDevice;
  Ed25519KeyPair aliceDeviceKey;
  UUID bobDevice;
  Ed25519KeyPair bobDeviceKey;
  String machine;
  Ed25519KeyPair machineKey;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    Harness.Owner o = h.bootstrap("A");
    alice = o.token();
    ws = o.workspaceId();
    bob = join("admin", "bob");
    mia = join("member", "mia");
    workspaceKey = Ed25519KeyPair.generate();
    aliceDevice = UUID.randomUUID();
    aliceDeviceKey = Ed25519KeyPair.generate();
    P256KeyPair aliceP256 = P256KeyPair.generate();
    Harness.Response created =
        h.call(
            "POST",
            "/v1/workspaces/" + ws + "/keyset",
            alice,
            new JsonObject()
                .put("keyset", signed(keyset(ws, workspaceKey), workspaceKey))
                .put(
                    "request",
                    signed(request(ws, aliceDevice, aliceDeviceKey, aliceP256), aliceDeviceKey))
                .put(
                    "credential",
                    signed(credential(ws, aliceDevice, aliceDeviceKey, aliceP256), workspaceKey))
                .put("envelope", envelope(aliceP256)));
    assertThat(created.status()).as(created.body().encode()).isEqualTo(201);
    // bob (admin) gets a trusted device of his own, approved with the workspace key
    bobDevice = UUID.randomUUID();
    bobDeviceKey = Ed25519KeyPair.generate();
    P256KeyPair bobP256 = P256KeyPair.generate();
    assertThat(
            h.call(
                    "POST",
                    "/v1/workspaces/" + ws + "/devices",
                    bob,
                    new JsonObject()
                        .put(
                            "request",
                            signed(request(ws, bobDevice, bobDeviceKey, bobP256), bobDeviceKey)))
                .status())
        .isEqualTo(201);
    Harness.Response approved =
        h.call(
            "POST",
            "/v1/workspaces/" + ws + "/devices/" + bobDevice + "/approval",
            alice,
            new JsonObject()
                .put(
                    "credential",
                    signed(credential(ws, bobDevice, bobDeviceKey, bobP256), workspaceKey))
                .put("envelope", envelope(bobP256)));
    assertThat(approved.status()).as(approved.body().encode()).isEqualTo(200);
    machineKey = Ed25519KeyPair.generate();
    machine = machine(ws, machineKey);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  String join(String role, String name) {
    return h.join(alice, ws, role, name);
  }

  String machine(String workspace, Ed25519KeyPair key) {
    return h.call(
            "POST",
            "/internal/v1/workspaces/" + workspace + "/machines",
            null,
            new JsonObject()
                .put("install_id", UUID.randomUUID().toString())
                .put("x25519_public_key", "11".repeat(32))
                .put("ed25519_public_key", key.publicKey().toHex())
                .put("name", "box")
                .put("os", "linux"),
            Map.of("X-Umbra-Internal", Harness.INTERNAL))
        .body()
        .getString("id");
  }

  static JsonObject signed(Map<String, Object> fields, Ed25519KeyPair key) {
    String text = CanonicalJson.encodeToString(fields);
    return new JsonObject()
        .put("payload", text)
        .put(
            "signature",
            HEX.formatHex(key.privateKey().sign(text.getBytes(StandardCharsets.UTF_8))));
  }

  static Map<String, Object> keyset(String ws, Ed25519KeyPair s) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-keyset/v1");
    m.put("workspace_id", ws);
    m.put("version", 1);
    m.put("signing_public_key", s.publicKey().toHex());
    m.put("encryption_public_key", X25519KeyPair.generate().publicKey().toHex());
    m.put("created_at", "2026-11-26T00:00:00Z");
    return m;
  }

  Map<String, Object> request(String ws, UUID id, Ed25519KeyPair ed, P256KeyPair p) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-device-request/v1");
    m.put("workspace_id", ws);
    m.put("device_id", id.toString());
    m.put("ed25519_public_key", ed.publicKey().toHex());
    m.put("p256_public_key", p.publicKey().toHex());
    m.put("name", "laptop");
    m.put("kind", "cli");
    m.put("timestamp_ms", h.clock.millis());
    return m;
  }

  static Map<String, Object> credential(String ws, UUID id, Ed25519KeyPair ed, P256KeyPair p) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-device-credential/v1");
    m.put("workspace_id", ws);
    m.put("device_id", id.toString());
    m.put("keyset_version", 1);
    m.put("ed25519_public_key", ed.publicKey().toHex());
    m.put("p256_public_key", p.publicKey().toHex());
    m.put("name", "laptop");
    m.put("kind", "cli");
    m.put("issued_at", "2026-11-26T00:00:00Z");
    return m;
  }

  static JsonObject envelope(P256KeyPair to) {
    return new JsonObject(
        new String(
            WorkspaceKeyEnvelopes.seal(
                    to.publicKey(), "bundle".getBytes(StandardCharsets.UTF_8), new byte[0])
                .toJson(),
            StandardCharsets.UTF_8));
  }

  Map<String, Object> policy(
      String workspace, String machineId, long version, String join, UUID signer) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-webtty-policy/v1");
    m.put("workspace_id", workspace);
    m.put("machine_id", machineId);
    m.put("version", version);
    m.put("recording", false);
    m.put("join", join);
    m.put("record_stdin", false);
    m.put("issued_at", h.clock.instant().toString());
    if (signer != null) {
      m.put("signer_device_id", signer.toString());
    }
    return m;
  }

  String path(String workspace, String machineId) {
    return "/v1/workspaces/" + workspace + "/machines/" + machineId + "/tty-policy";
  }

  Harness.Response put(String token, JsonObject doc) {
    return h.call("PUT", path(ws, machine), token, new JsonObject().put("policy", doc));
  }

  JsonObject machineFetch(String workspace, String machineId, Ed25519KeyPair key) {
    long ts = h.clock.millis();
    byte[] msg =
        ("umbra-machine-tty-policy/v1\n" + workspace + "\n" + machineId + "\n" + ts)
            .getBytes(StandardCharsets.UTF_8);
    return new JsonObject()
        .put("workspace_id", workspace)
        .put("machine_id", machineId)
        .put("timestamp_ms", ts)
        .put("signature", HEX.formatHex(key.privateKey().sign(msg)));
  }

  @Test
  void anAdminSetsASignedPolicyMembersReadItAndTheMachineFetchesTheSignedDocument() {
    Harness.Response none = h.call("GET", path(ws, machine), mia, null);
    assertThat(none.status()).isEqualTo(200);
    assertThat(none.body().getLong("version")).isZero();
    assertThat(none.body().getValue("policy")).isNull();

    JsonObject doc = signed(policy(ws, machine, 1, "admins", aliceDevice), aliceDeviceKey);
    Harness.Response set = put(alice, doc);
    assertThat(set.status()).as(set.body().encode()).isEqualTo(200);
    assertThat(set.body().getJsonObject("policy")).isEqualTo(doc);

    Harness.Response read = h.call("GET", path(ws, machine), mia, null);
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.body().getLong("version")).isEqualTo(1);
    assertThat(read.body().getString("join")).isEqualTo("admins");
    assertThat(read.body().getBoolean("recording")).isFalse();
    assertThat(read.body().getString("signer_device_id")).isEqualTo(aliceDevice.toString());
    assertThat(read.body().getJsonObject("policy")).isEqualTo(doc);

    Harness.Response fetched =
        h.call("POST", "/v1/machine-tty-policy", null, machineFetch(ws, machine, machineKey));
    assertThat(fetched.status()).as(fetched.body().encode()).isEqualTo(200);
    assertThat(fetched.body().getJsonObject("policy")).isEqualTo(doc);
    // bob, another admin, sets the next version with his own device
    assertThat(put(bob, signed(policy(ws, machine, 2, "nobody", bobDevice), bobDeviceKey)).status())
        .isEqualTo(200);
  }

  @Test
  void theControlPlaneRefusesWhatNoDaemonShouldBeShown() {
    assertThat(
            put(alice, signed(policy(ws, machine, 5, "members", aliceDevice), aliceDeviceKey))
                .status())
        .isEqualTo(200);
    record Case(String what, String token, JsonObject doc, int status) {}
    Map<String, Object> otherMachine =
        policy(ws, machine(ws, Ed25519KeyPair.generate()), 6, "members", aliceDevice);
    Map<String, Object> stale = policy(ws, machine, 1, "members", aliceDevice);
    stale.put("issued_at", h.clock.instant().minusSeconds(3600).toString());
    Map<String, Object> unknownJoin = policy(ws, machine, 6, "everyone", aliceDevice);
    JsonObject badSig = signed(policy(ws, machine, 6, "members", aliceDevice), aliceDeviceKey);
    badSig.put("signature", "00".repeat(64));
    for (Case c :
        java.util.List.of(
            new Case(
                "a member may not set it",
                mia,
                signed(policy(ws, machine, 6, "members", aliceDevice), aliceDeviceKey),
                403),
            new Case(
                "the same version again",
                alice,
                signed(policy(ws, machine, 5, "nobody", aliceDevice), aliceDeviceKey),
                409),
            new Case(
                "a lower version",
                alice,
                signed(policy(ws, machine, 4, "nobody", aliceDevice), aliceDeviceKey),
                409),
            new Case(
                "unsigned while the workspace is protected",
                alice,
                new JsonObject()
                    .put(
                        "payload",
                        CanonicalJson.encodeToString(policy(ws, machine, 6, "members", null))),
                400),
            new Case("a bad signature", alice, badSig, 400),
            new Case(
                "signed by another admin's device",
                alice,
                signed(policy(ws, machine, 6, "members", bobDevice), bobDeviceKey),
                403),
            new Case(
                "signed by a device nobody trusts",
                alice,
                signed(
                    policy(ws, machine, 6, "members", UUID.randomUUID()),
                    Ed25519KeyPair.generate()),
                403),
            new Case("naming another machine", alice, signed(otherMachine, aliceDeviceKey), 400),
            new Case("issued an hour ago", alice, signed(stale, aliceDeviceKey), 400),
            new Case("an unknown join value", alice, signed(unknownJoin, aliceDeviceKey), 400),
            new Case(
                "not canonical",
                alice,
                new JsonObject()
                    .put("payload", " " + badSig.getString("payload"))
                    .put("signature", badSig.getString("signature")),
                400))) {
      Harness.Response r = put(c.token(), c.doc());
      assertThat(r.status()).as(c.what() + ": " + r.body().encode()).isEqualTo(c.status());
    }
    assertThat(h.call("GET", path(ws, machine), mia, null).body().getLong("version"))
        .as("nothing refused was stored")
        .isEqualTo(5);
  }

  @Test
  void anotherWorkspacesMachineIsNotFoundAndTheMachineFetchNeedsTheMachinesOwnSignature() {
    assertThat(
            put(alice, signed(policy(ws, machine, 1, "members", aliceDevice), aliceDeviceKey))
                .status())
        .isEqualTo(200);
    String other =
        h.call("POST", "/v1/workspaces", bob, new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    assertThat(h.call("GET", path(other, machine), bob, null).status()).isEqualTo(404);
    assertThat(
            h.call(
                    "PUT",
                    path(other, machine),
                    bob,
                    new JsonObject()
                        .put(
                            "policy",
                            new JsonObject()
                                .put(
                                    "payload",
                                    CanonicalJson.encodeToString(
                                        policy(other, machine, 2, "members", null)))))
                .status())
        .isEqualTo(404);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-tty-policy",
                    null,
                    machineFetch(ws, machine, Ed25519KeyPair.generate()))
                .status())
        .isEqualTo(401);
    assertThat(
            h.call("POST", "/v1/machine-tty-policy", null, machineFetch(other, machine, machineKey))
                .status())
        .isEqualTo(401);
    assertThat(h.call("GET", path(ws, machine), null, null).status()).isEqualTo(401);
  }

  @Test
  void withoutAKeysetOnlyAnUnsignedPolicyIsAccepted() {
    String other =
        h.call("POST", "/v1/workspaces", alice, new JsonObject().put("name", "unprotected"))
            .body()
            .getString("id");
    String m = machine(other, Ed25519KeyPair.generate());
    JsonObject unsigned =
        new JsonObject()
            .put("payload", CanonicalJson.encodeToString(policy(other, m, 1, "nobody", null)));
    Harness.Response set =
        h.call("PUT", path(other, m), alice, new JsonObject().put("policy", unsigned));
    assertThat(set.status()).as(set.body().encode()).isEqualTo(200);
    assertThat(set.body().getBoolean("signed")).isFalse();
    Harness.Response signedThere =
        h.call(
            "PUT",
            path(other, m),
            alice,
            new JsonObject()
                .put("policy", signed(policy(other, m, 2, "nobody", aliceDevice), aliceDeviceKey)));
    assertThat(signedThere.status()).isEqualTo(400);
  }
}
