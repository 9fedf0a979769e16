package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.envelope.WorkspaceKeyEnvelopes;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Workspace Protection and vault endpoints over real HTTP, PostgreSQL and Redis: every
 * signature checked before storing, malformed input refused naming the field, and another
 * workspace's keysets, devices, kits, envelopes and vault entries not found through any route. (The
 * client-side and daemon-side verification is tested end to end in the CLI module.)
 */
@ExtendWith(VertxExtension.class)
public class DeviceTrustApiTest {
  static final HexFormat HEX = HexFormat.of();
  Harness h;
  String alice;
  String wsA;
  String bob;
  String wsC;
  Protected a;
  Protected c;

  /** A workspace whose keyset this test holds, like a first device would. */
  record Protected(
      String ws,
      Ed25519KeyPair signing,
      X25519KeyPair encryption,
      UUID device,
      Ed25519KeyPair deviceKey,
      P256KeyPair deviceP256,
      UUID pendingDevice,
      UUID kit,
      String entry,
      String candidate) {}

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    Harness.Tenants t = h.twoTenants();
    alice = t.alice();
    wsA = t.wsA();
    bob = t.bob();
    wsC = t.wsC();
    a = protect(alice, wsA);
    c = protect(bob, wsC);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  public static JsonObject signed(Map<String, Object> fields, Ed25519KeyPair key) {
    String text = CanonicalJson.encodeToString(fields);
    return new JsonObject()
        .put("payload", text)
        .put(
            "signature",
            HEX.formatHex(key.privateKey().sign(text.getBytes(StandardCharsets.UTF_8))));
  }

  public static Map<String, Object> keyset(
      String ws, int version, Ed25519KeyPair s, X25519KeyPair e) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-keyset/v1");
    m.put("workspace_id", ws);
    m.put("version", version);
    m.put("signing_public_key", s.publicKey().toHex());
    m.put("encryption_public_key", e.publicKey().toHex());
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

  public static Map<String, Object> credential(
      String ws, UUID id, Ed25519KeyPair ed, P256KeyPair p, int version) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-device-credential/v1");
    m.put("workspace_id", ws);
    m.put("device_id", id.toString());
    m.put("keyset_version", version);
    m.put("ed25519_public_key", ed.publicKey().toHex());
    m.put("p256_public_key", p.publicKey().toHex());
    m.put("name", "laptop");
    m.put("kind", "cli");
    m.put("issued_at", "2026-11-26T00:00:00Z");
    return m;
  }

  static Map<String, Object> webttyKey(String ws, UUID device, X25519KeyPair key) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-device-webtty-key/v1");
    m.put("workspace_id", ws);
    m.put("device_id", device.toString());
    m.put("x25519_public_key", key.publicKey().toHex());
    m.put("issued_at", "2026-12-04T00:00:00Z");
    return m;
  }

  @Test
  void aDevicesWebTtyKeyIsPublishedOnlyByItsOwnAccountAndOnlyUnderItsOwnSignature() {
    String path = "/v1/workspaces/" + wsA + "/devices/" + a.device() + "/webtty-key";
    X25519KeyPair k = X25519KeyPair.generate();
    JsonObject good = signed(webttyKey(wsA, a.device(), k), a.deviceKey());
    Harness.Response put = h.call("PUT", path, alice, new JsonObject().put("webtty_key", good));
    assertThat(put.status()).as(put.body().encode()).isEqualTo(200);
    assertThat(put.body().getJsonObject("webtty_key")).isEqualTo(good);
    assertThat(
            h.call("GET", "/v1/workspaces/" + wsA + "/devices/" + a.device(), alice, null)
                .body()
                .getJsonObject("webtty_key"))
        .isEqualTo(good);

    // signed by another key (what a control plane or an intruder could make), naming another
    // device, extra members: refused
    Map<String, Object> extra = webttyKey(wsA, a.device(), k);
    extra.put("role", "admin");
    for (JsonObject bad :
        List.of(
            signed(webttyKey(wsA, a.device(), X25519KeyPair.generate()), Ed25519KeyPair.generate()),
            signed(webttyKey(wsA, a.pendingDevice(), k), a.deviceKey()),
            signed(extra, a.deviceKey()))) {
      Harness.Response r = h.call("PUT", path, alice, new JsonObject().put("webtty_key", bad));
      assertThat(r.status()).as(bad.encode()).isEqualTo(400);
      assertThat(r.errorField()).isEqualTo("webtty_key");
    }

    // another member of the workspace cannot publish for alice's device, even with a valid
    // signature
    String invite =
        h.call(
                "POST",
                "/v1/workspaces/" + wsA + "/invitations",
                alice,
                new JsonObject().put("role", "member"))
            .body()
            .getString("token");
    String carol =
        h.call(
                "POST",
                "/v1/invitations/accept",
                null,
                new JsonObject().put("token", invite).put("account_name", "carol"))
            .body()
            .getJsonObject("api_token")
            .getString("token");
    JsonObject other = signed(webttyKey(wsA, a.device(), X25519KeyPair.generate()), a.deviceKey());
    assertThat(h.call("PUT", path, carol, new JsonObject().put("webtty_key", other)).status())
        .isEqualTo(403);
    assertThat(
            h.call("GET", "/v1/workspaces/" + wsA + "/devices/" + a.device(), alice, null)
                .body()
                .getJsonObject("webtty_key"))
        .isEqualTo(good);
  }

  public static JsonObject envelope(P256KeyPair to) {
    return new JsonObject(
        new String(
            WorkspaceKeyEnvelopes.seal(
                    to.publicKey(), "bundle".getBytes(StandardCharsets.UTF_8), new byte[0])
                .toJson(),
            StandardCharsets.UTF_8));
  }

  JsonObject createBody(
      String ws, Ed25519KeyPair s, X25519KeyPair e, UUID dev, Ed25519KeyPair ed, P256KeyPair p) {
    return new JsonObject()
        .put("keyset", signed(keyset(ws, 1, s, e), s))
        .put("request", signed(request(ws, dev, ed, p), ed))
        .put("credential", signed(credential(ws, dev, ed, p, 1), s))
        .put("envelope", envelope(p));
  }

  Protected protect(String token, String ws) {
    Ed25519KeyPair s = Ed25519KeyPair.generate();
    X25519KeyPair e = X25519KeyPair.generate();
    UUID dev = UUID.randomUUID();
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    P256KeyPair p = P256KeyPair.generate();
    Harness.Response created =
        h.call("POST", "/v1/workspaces/" + ws + "/keyset", token, createBody(ws, s, e, dev, ed, p));
    assertThat(created.status()).as(created.body().encode()).isEqualTo(201);
    UUID pending = UUID.randomUUID();
    Ed25519KeyPair ped = Ed25519KeyPair.generate();
    P256KeyPair pp = P256KeyPair.generate();
    assertThat(
            h.call(
                    "POST",
                    "/v1/workspaces/" + ws + "/devices",
                    token,
                    new JsonObject().put("request", signed(request(ws, pending, ped, pp), ped)))
                .status())
        .isEqualTo(201);
    UUID kit = UUID.randomUUID();
    P256KeyPair kp = P256KeyPair.generate();
    Map<String, Object> k = new TreeMap<>();
    k.put("type", "umbra-recovery-kit/v1");
    k.put("workspace_id", ws);
    k.put("kit_id", kit.toString());
    k.put("p256_public_key", kp.publicKey().toHex());
    k.put("created_at", "2026-11-26T00:00:00Z");
    Harness.Response kr =
        h.call(
            "POST",
            "/v1/workspaces/" + ws + "/recovery-kits",
            token,
            new JsonObject().put("kit", signed(k, s)).put("envelope", envelope(kp)));
    assertThat(kr.status()).as(kr.body().encode()).isEqualTo(201);
    String entry =
        h.call("POST", "/v1/workspaces/" + ws + "/vault/entries", token, sealed("e"))
            .body()
            .getString("id");
    String cand =
        h.call("POST", "/v1/workspaces/" + ws + "/vault/candidates", token, sealed("c"))
            .body()
            .getString("id");
    assertThat(entry).isNotNull();
    assertThat(cand).isNotNull();
    return new Protected(ws, s, e, dev, ed, p, pending, kit, entry, cand);
  }

  static JsonObject sealed(String name) {
    return new JsonObject()
        .put("name", name)
        .put("keyset_version", 1)
        .put("enc", Base64.getEncoder().encodeToString(new byte[32]))
        .put("ciphertext", Base64.getEncoder().encodeToString(new byte[48]));
  }

  record Attempt(String method, String path, JsonObject body) {}

  List<Attempt> attempts(String ws, Protected o) {
    String base = "/v1/workspaces/" + ws;
    Map<String, Object> rev = new TreeMap<>();
    rev.put("type", "umbra-device-revocation/v1");
    rev.put("workspace_id", ws);
    rev.put("device_id", o.device().toString());
    rev.put("revoked_at", "2026-11-26T00:00:00Z");
    return List.of(
        new Attempt("GET", base + "/devices/" + o.device(), null),
        new Attempt("GET", base + "/devices/" + o.device() + "/envelope", null),
        new Attempt(
            "POST",
            base + "/devices/" + o.pendingDevice() + "/approval",
            new JsonObject()
                .put(
                    "credential",
                    signed(
                        credential(ws, o.pendingDevice(), o.deviceKey(), o.deviceP256(), 1),
                        o.signing()))
                .put("envelope", envelope(o.deviceP256()))),
        new Attempt(
            "POST",
            base + "/devices/" + o.device() + "/revocation",
            new JsonObject().put("revocation", signed(rev, o.signing()))),
        new Attempt(
            "PUT",
            base + "/devices/" + o.device() + "/webtty-key",
            new JsonObject()
                .put(
                    "webtty_key",
                    signed(webttyKey(ws, o.device(), X25519KeyPair.generate()), o.deviceKey()))),
        new Attempt("POST", base + "/recovery-kits/" + o.kit() + "/confirmation", new JsonObject()),
        new Attempt("GET", base + "/recovery-kits/" + o.kit() + "/envelope", null),
        new Attempt("GET", base + "/vault/entries/" + o.entry(), null),
        new Attempt("DELETE", base + "/vault/entries/" + o.entry(), null),
        new Attempt("GET", base + "/vault/candidates/" + o.candidate(), null),
        new Attempt("DELETE", base + "/vault/candidates/" + o.candidate(), null));
  }

  List<Attempt> workspaceAttempts(Protected o) {
    String base = "/v1/workspaces/" + o.ws();
    return List.of(
        new Attempt("GET", base + "/keyset", null),
        new Attempt(
            "POST",
            base + "/keyset",
            createBody(
                o.ws(),
                Ed25519KeyPair.generate(),
                X25519KeyPair.generate(),
                UUID.randomUUID(),
                Ed25519KeyPair.generate(),
                P256KeyPair.generate())),
        new Attempt(
            "POST",
            base + "/keyset/rotations",
            new JsonObject()
                .put(
                    "keyset",
                    signed(
                        keyset(o.ws(), 2, Ed25519KeyPair.generate(), X25519KeyPair.generate()),
                        o.signing()))
                .put(
                    "devices",
                    new JsonArray().add(new JsonObject().put("device_id", o.device().toString())))),
        new Attempt("GET", base + "/devices", null),
        new Attempt(
            "POST",
            base + "/devices",
            new JsonObject()
                .put(
                    "request",
                    signed(
                        request(o.ws(), UUID.randomUUID(), o.deviceKey(), o.deviceP256()),
                        o.deviceKey()))),
        new Attempt("GET", base + "/recovery-kits", null),
        new Attempt("GET", base + "/vault/entries", null),
        new Attempt("POST", base + "/vault/entries", sealed("intruder")),
        new Attempt("GET", base + "/vault/candidates", null),
        new Attempt("POST", base + "/vault/candidates", sealed("intruder")));
  }

  String snapshot() throws Exception {
    StringBuilder sb = new StringBuilder();
    try (Connection conn = h.pg.ownerConnection();
        Statement st = conn.createStatement()) {
      for (String t :
          List.of(
              "keysets",
              "devices",
              "keyset_envelopes",
              "recovery_kits",
              "vault_entries",
              "vault_candidates",
              "vault_grants")) {
        try (ResultSet rs =
            st.executeQuery("SELECT t::text FROM control_plane." + t + " t ORDER BY 1")) {
          while (rs.next()) {
            sb.append(t).append(':').append(rs.getString(1)).append('\n');
          }
        }
      }
    }
    return sb.toString();
  }

  @Test
  void anotherWorkspacesTrustAndVaultObjectsAreNotFoundThroughEveryEndpoint() throws Exception {
    String before = snapshot();
    List<String> leaks = new ArrayList<>();
    for (Attempt t : workspaceAttempts(c)) {
      check(leaks, alice, t);
    }
    for (Attempt t : attempts(wsC, c)) {
      check(leaks, alice, t);
    }
    for (Attempt t : attempts(wsA, c)) {
      check(leaks, alice, t);
    }
    for (Attempt t : attempts(wsC, a)) {
      check(leaks, bob, t);
    }
    assertThat(leaks).isEmpty();
    assertThat(snapshot()).isEqualTo(before);
  }

  private void check(List<String> leaks, String token, Attempt t) {
    Harness.Response r = h.call(t.method(), t.path(), token, t.body());
    if (r.status() != 404) {
      leaks.add(t.method() + " " + t.path() + " -> " + r.status() + " " + r.body());
    }
  }

  @Test
  void everySignatureIsCheckedBeforeAnythingIsStored() throws Exception {
    String ws =
        h.call("POST", "/v1/workspaces", alice, new JsonObject().put("name", "fresh"))
            .body()
            .getString("id");
    Ed25519KeyPair s = Ed25519KeyPair.generate();
    X25519KeyPair e = X25519KeyPair.generate();
    UUID dev = UUID.randomUUID();
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    P256KeyPair p = P256KeyPair.generate();
    String path = "/v1/workspaces/" + ws + "/keyset";
    String before = snapshot();
    JsonObject other =
        createBody(ws, s, e, dev, ed, p)
            .put("keyset", signed(keyset(ws, 1, s, e), Ed25519KeyPair.generate()));
    assertThat(h.call("POST", path, alice, other).errorField()).isEqualTo("keyset");
    JsonObject badRequest =
        createBody(ws, s, e, dev, ed, p)
            .put("request", signed(request(ws, dev, ed, p), Ed25519KeyPair.generate()));
    assertThat(h.call("POST", path, alice, badRequest).errorField()).isEqualTo("request");
    JsonObject badCred =
        createBody(ws, s, e, dev, ed, p)
            .put("credential", signed(credential(ws, dev, ed, p, 1), Ed25519KeyPair.generate()));
    assertThat(h.call("POST", path, alice, badCred).errorField()).isEqualTo("credential");
    JsonObject otherDevice =
        createBody(ws, s, e, dev, ed, p)
            .put("credential", signed(credential(ws, UUID.randomUUID(), ed, p, 1), s));
    assertThat(h.call("POST", path, alice, otherDevice).errorField()).isEqualTo("credential");
    assertThat(snapshot()).isEqualTo(before);
    assertThat(h.call("POST", path, alice, createBody(ws, s, e, dev, ed, p)).status())
        .isEqualTo(201);
    Harness.Response second =
        h.call(
            "POST",
            path,
            alice,
            createBody(
                ws,
                Ed25519KeyPair.generate(),
                e,
                UUID.randomUUID(),
                Ed25519KeyPair.generate(),
                P256KeyPair.generate()));
    assertThat(second.status()).isEqualTo(409);

    // approval must be signed by the current workspace key, for exactly the pending device's keys
    String dpath = "/v1/workspaces/" + wsA + "/devices/" + a.pendingDevice() + "/approval";
    JsonObject row =
        h.call("GET", "/v1/workspaces/" + wsA + "/devices/" + a.pendingDevice(), alice, null)
            .body();
    assertThat(row.getString("status")).isEqualTo("pending");
    JsonObject replayed =
        new JsonObject()
            .put(
                "credential",
                h.call("GET", "/v1/workspaces/" + wsA + "/devices/" + a.device(), alice, null)
                    .body()
                    .getJsonObject("credential"))
            .put("envelope", envelope(a.deviceP256()));
    assertThat(h.call("POST", dpath, alice, replayed).errorField())
        .as("a replayed approval of another device")
        .isEqualTo("credential");
    // a viewer cannot read the vault, a read-only or non-admin caller cannot approve
    assertThat(
            h.call("GET", "/v1/workspaces/" + wsA + "/devices/" + a.pendingDevice(), alice, null)
                .body()
                .getString("status"))
        .isEqualTo("pending");
  }

  @Test
  void malformedSignedPayloadsAreRefusedNamingTheField() {
    String path = "/v1/workspaces/" + wsA + "/devices";
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    P256KeyPair p = P256KeyPair.generate();
    JsonObject good = signed(request(wsA, UUID.randomUUID(), ed, p), ed);
    String payload = good.getString("payload");
    List<JsonObject> bad =
        List.of(
            new JsonObject(),
            new JsonObject().put("request", "text"),
            new JsonObject().put("request", good.copy().put("extra", 1)),
            new JsonObject()
                .put(
                    "request",
                    good.copy().put("payload", payload.substring(0, payload.length() / 2))),
            new JsonObject().put("request", good.copy().put("payload", "[1,2]")),
            new JsonObject().put("request", good.copy().put("payload", " " + payload)),
            new JsonObject()
                .put(
                    "request",
                    good.copy()
                        .put(
                            "payload",
                            "{\"type\":\"umbra-device-request/v1\",\"x\":\""
                                + "a".repeat(5000)
                                + "\"}")),
            new JsonObject().put("request", good.copy().put("signature", "zz".repeat(64))),
            new JsonObject().put("request", good.copy().put("signature", "00".repeat(63))),
            new JsonObject()
                .put(
                    "request",
                    signed(new TreeMap<>(Map.of("type", "umbra-device-credential/v1")), ed)));
    for (JsonObject b : bad) {
      Harness.Response r = h.call("POST", path, alice, b);
      assertThat(r.status())
          .as(b.encode().substring(0, Math.min(120, b.encode().length())))
          .isEqualTo(400);
      assertThat(r.errorField()).isEqualTo("request");
    }
    Map<String, Object> stale = request(wsA, UUID.randomUUID(), ed, p);
    stale.put("timestamp_ms", h.clock.millis() - 3_600_000L);
    assertThat(
            h.call("POST", path, alice, new JsonObject().put("request", signed(stale, ed)))
                .errorField())
        .isEqualTo("request");
    assertThat(h.call("POST", path, alice, new JsonObject().put("request", good)).status())
        .isEqualTo(201);
    assertThat(h.call("POST", path, alice, new JsonObject().put("request", good)).status())
        .as("the same request replayed")
        .isEqualTo(409);
  }

  @Test
  void vaultStoresOnlyBoundedCiphertext() {
    String path = "/v1/workspaces/" + wsA + "/vault/entries";
    assertThat(h.call("POST", path, alice, sealed("../etc")).errorField()).isEqualTo("name");
    assertThat(h.call("POST", path, alice, sealed("x").put("keyset_version", 9)).errorField())
        .isEqualTo("keyset_version");
    assertThat(
            h.call(
                    "POST",
                    path,
                    alice,
                    sealed("x").put("enc", Base64.getEncoder().encodeToString(new byte[31])))
                .errorField())
        .isEqualTo("enc");
    assertThat(
            h.call("POST", path, alice, sealed("x").put("ciphertext", "not base64!")).errorField())
        .isEqualTo("ciphertext");
    assertThat(
            h.call(
                    "POST",
                    path,
                    alice,
                    sealed("x")
                        .put("ciphertext", Base64.getEncoder().encodeToString(new byte[70_000])))
                .errorField())
        .isEqualTo("ciphertext");
    assertThat(h.call("POST", path, alice, sealed("x").put("plaintext", "no")).errorField())
        .isEqualTo("plaintext");
    JsonObject list = h.call("GET", path, alice, null).body();
    assertThat(list.getJsonArray("items").getJsonObject(0).containsKey("ciphertext")).isFalse();
  }

  @Test
  void machineTrustNeedsTheMachinesOwnSignature() {
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    Harness.Response m =
        h.call(
            "POST",
            "/internal/v1/workspaces/" + wsA + "/machines",
            null,
            new JsonObject()
                .put("install_id", UUID.randomUUID().toString())
                .put("x25519_public_key", "11".repeat(32))
                .put("ed25519_public_key", key.publicKey().toHex())
                .put("name", "box")
                .put("os", "linux"),
            Map.of("X-Umbra-Internal", Harness.INTERNAL));
    String mid = m.body().getString("id");
    long ts = h.clock.millis();
    byte[] msg =
        ("umbra-machine-trust/v1\n" + wsA + "\n" + mid + "\n" + ts)
            .getBytes(StandardCharsets.UTF_8);
    JsonObject body =
        new JsonObject()
            .put("workspace_id", wsA)
            .put("machine_id", mid)
            .put("timestamp_ms", ts)
            .put("signature", HEX.formatHex(key.privateKey().sign(msg)));
    Harness.Response ok = h.call("POST", "/v1/machine-trust", null, body);
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.body().getJsonArray("keysets")).hasSize(1);
    // the trusted devices' current credentials, exactly (the daemon re-checks live sessions against
    // them)
    List<Object> trusted = new java.util.ArrayList<>();
    h
        .call("GET", "/v1/workspaces/" + wsA + "/devices", alice, null)
        .body()
        .getJsonArray("items")
        .stream()
        .map(JsonObject.class::cast)
        .filter(d -> "trusted".equals(d.getString("status")))
        .forEach(d -> trusted.add(d.getJsonObject("credential")));
    assertThat(trusted).isNotEmpty();
    List<Object> served = new java.util.ArrayList<>();
    ok.body().getJsonArray("credentials").forEach(served::add);
    assertThat(served).containsExactlyInAnyOrderElementsOf(trusted);
    assertThat(
            h.call("POST", "/v1/machine-trust", null, body.copy().put("workspace_id", wsC))
                .status())
        .as("another workspace")
        .isEqualTo(401);
    assertThat(
            h.call("POST", "/v1/machine-trust", null, body.copy().put("signature", "00".repeat(64)))
                .status())
        .isEqualTo(401);
    assertThat(
            h.call("POST", "/v1/machine-trust", null, body.copy().put("timestamp_ms", ts - 120_000))
                .status())
        .isEqualTo(401);
    assertThat(
            h.call("POST", "/v1/machine-trust", null, body.copy().put("signature", "00")).status())
        .isEqualTo(400);
  }

  String joined(String ws, String role, String name) {
    String invite =
        h.call(
                "POST",
                "/v1/workspaces/" + ws + "/invitations",
                alice,
                new JsonObject().put("role", role))
            .body()
            .getString("token");
    return h.call(
            "POST",
            "/v1/invitations/accept",
            null,
            new JsonObject().put("token", invite).put("account_name", name))
        .body()
        .getJsonObject("api_token")
        .getString("token");
  }

  @Test
  void rolesGateEveryTrustAndVaultOperation() {
    String viewer = joined(wsA, "viewer", "vera");
    String member = joined(wsA, "member", "max");
    String base = "/v1/workspaces/" + wsA;
    assertThat(h.call("GET", base + "/devices", viewer, null).status()).isEqualTo(200);
    assertThat(h.call("GET", base + "/keyset", viewer, null).status()).isEqualTo(200);
    assertThat(h.call("GET", base + "/vault/entries", viewer, null).status()).isEqualTo(403);
    assertThat(h.call("GET", base + "/vault/entries/" + a.entry(), viewer, null).status())
        .isEqualTo(403);
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    P256KeyPair p = P256KeyPair.generate();
    assertThat(
            h.call(
                    "POST",
                    base + "/devices",
                    viewer,
                    new JsonObject()
                        .put("request", signed(request(wsA, UUID.randomUUID(), ed, p), ed)))
                .status())
        .isEqualTo(403);
    assertThat(
            h.call(
                    "POST",
                    base + "/devices",
                    member,
                    new JsonObject()
                        .put("request", signed(request(wsA, UUID.randomUUID(), ed, p), ed)))
                .status())
        .isEqualTo(201);
    assertThat(h.call("GET", base + "/vault/entries/" + a.entry(), member, null).status())
        .isEqualTo(200);
    JsonObject approval =
        new JsonObject()
            .put(
                "credential",
                signed(
                    credential(wsA, a.pendingDevice(), a.deviceKey(), a.deviceP256(), 1),
                    a.signing()))
            .put("envelope", envelope(a.deviceP256()));
    assertThat(
            h.call("POST", base + "/devices/" + a.pendingDevice() + "/approval", member, approval)
                .status())
        .isEqualTo(403);
    assertThat(h.call("GET", base + "/recovery-kits", member, null).status()).isEqualTo(403);
    assertThat(
            h.call("GET", base + "/recovery-kits/" + a.kit() + "/envelope", member, null).status())
        .isEqualTo(403);
    assertThat(
            h.call(
                    "POST",
                    base + "/recovery-kits/" + a.kit() + "/confirmation",
                    member,
                    new JsonObject())
                .status())
        .isEqualTo(403);
    String readOnly =
        h.call("POST", "/v1/tokens", alice, new JsonObject().put("name", "ro").put("scope", "read"))
            .body()
            .getString("token");
    assertThat(h.call("POST", base + "/vault/entries", readOnly, sealed("ro")).status())
        .isEqualTo(403);
    assertThat(h.call("GET", base + "/vault/entries", readOnly, null).status())
        .as("a read token acts as a viewer")
        .isEqualTo(403);
    assertThat(h.call("GET", base + "/devices", null, null).status()).isEqualTo(401);
  }

  record Machine(String id, Ed25519KeyPair key) {}

  Machine machine(String ws) {
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    Harness.Response m =
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
    return new Machine(m.body().getString("id"), key);
  }

  static JsonObject grantBody(String machineId) {
    return new JsonObject()
        .put("machine_id", machineId)
        .put("keyset_version", 1)
        .put("enc", Base64.getEncoder().encodeToString(new byte[32]))
        .put("ciphertext", Base64.getEncoder().encodeToString(new byte[64]));
  }

  JsonObject machineRead(String ws, Machine m, String name) {
    long ts = h.clock.millis();
    byte[] msg =
        ("umbra-machine-vault/v1\n" + ws + "\n" + m.id() + "\n" + ts + "\n" + name)
            .getBytes(StandardCharsets.UTF_8);
    return new JsonObject()
        .put("workspace_id", ws)
        .put("machine_id", m.id())
        .put("timestamp_ms", ts)
        .put("name", name)
        .put("signature", HEX.formatHex(m.key().privateKey().sign(msg)));
  }

  @Test
  void vaultGrantsOfAnotherWorkspaceAreNotFoundAndOnlyAGrantedMachineReads() throws Exception {
    Machine ma = machine(wsA);
    Machine mc = machine(wsC);
    assertThat(
            h.call("POST", "/v1/workspaces/" + wsA + "/vault/grants", alice, grantBody(ma.id()))
                .status())
        .isEqualTo(200);
    assertThat(
            h.call("POST", "/v1/workspaces/" + wsC + "/vault/grants", bob, grantBody(mc.id()))
                .status())
        .isEqualTo(200);
    String before = snapshot();
    List<String> leaks = new ArrayList<>();
    check(leaks, alice, new Attempt("GET", "/v1/workspaces/" + wsC + "/vault/grants", null));
    check(
        leaks,
        alice,
        new Attempt("POST", "/v1/workspaces/" + wsC + "/vault/grants", grantBody(mc.id())));
    check(
        leaks,
        alice,
        new Attempt("DELETE", "/v1/workspaces/" + wsC + "/vault/grants/" + mc.id(), null));
    check(
        leaks,
        alice,
        new Attempt("POST", "/v1/workspaces/" + wsA + "/vault/grants", grantBody(mc.id())));
    check(
        leaks,
        alice,
        new Attempt("DELETE", "/v1/workspaces/" + wsA + "/vault/grants/" + mc.id(), null));
    assertThat(leaks).isEmpty();
    assertThat(snapshot()).isEqualTo(before);
    assertThat(
            h.call("GET", "/v1/workspaces/" + wsA + "/vault/grants", alice, null)
                .body()
                .getJsonArray("items"))
        .hasSize(1);

    Harness.Response read = h.call("POST", "/v1/machine-vault", null, machineRead(wsA, ma, "e"));
    assertThat(read.status()).as(read.body().encode()).isEqualTo(200);
    assertThat(read.body().getJsonObject("entry").getString("name")).isEqualTo("e");
    assertThat(h.call("POST", "/v1/machine-vault", null, machineRead(wsA, ma, "missing")).status())
        .isEqualTo(404);
    assertThat(h.call("POST", "/v1/machine-vault", null, machineRead(wsA, mc, "e")).status())
        .as("a machine of another workspace")
        .isEqualTo(401);
    JsonObject tampered = machineRead(wsA, ma, "e").put("name", "other");
    assertThat(h.call("POST", "/v1/machine-vault", null, tampered).status())
        .as("signature over another name")
        .isEqualTo(401);
    Machine ungranted = machine(wsA);
    assertThat(h.call("POST", "/v1/machine-vault", null, machineRead(wsA, ungranted, "e")).status())
        .isEqualTo(404);
    assertThat(
            h.call("DELETE", "/v1/workspaces/" + wsA + "/vault/grants/" + ma.id(), alice, null)
                .status())
        .isEqualTo(204);
    assertThat(h.call("POST", "/v1/machine-vault", null, machineRead(wsA, ma, "e")).status())
        .isEqualTo(404);
  }
}
