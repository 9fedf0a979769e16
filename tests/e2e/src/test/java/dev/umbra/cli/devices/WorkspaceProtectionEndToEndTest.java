package dev.umbra.cli.devices;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.revocation.RevocationChannel;
import dev.umbra.kit.testing.CanaryScan;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Workspace Protection through the real `umbra` command, a real control plane and pairing service
 * on PostgreSQL and Redis, and the daemon's offline verifier: keyset creation, trust with codes,
 * vault, revocation and rotation, Recovery Kit, a hostile control plane (rows tampered in PG), and
 * the canary scan.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkspaceProtectionEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-trust-test-0123456789";
  CliHarness h;
  Traces traces;
  TestPostgres pg;
  Bus bus;
  String cpUrl;
  Path admin;
  Path tmp;
  final List<Revocation> revocations = new CopyOnWriteArrayList<>();

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    h = CliHarness.start("trust-e2e", BOOTSTRAP, ServiceName.PAIRING);
    traces.watch(h);
    pg = h.pg;
    bus = h.bus;
    tmp = h.tmp;
    cpUrl = h.cpUrl;
    bus.subscribe(
            RevocationChannel.CHANNEL,
            m -> {
              try {
                revocations.add(Revocation.parseFrom(m.body().getBytes()));
              } catch (Exception e) {
                // not a revocation
              }
            })
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    admin = tmp.resolve("admin");
    ok(admin, "login", cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
  }

  @AfterAll
  void stop() throws Exception {
    h.close();
    traces.close();
  }

  /** A new workspace of the admin account, with the admin CLI as its first trusted device. */
  String protectedWorkspace(String name) {
    ok(admin, "workspace", "create", name);
    UmbraRun t = ok(admin, "device", "trust", "-w", name, "--json");
    assertThat(t.json().getString("status")).isEqualTo("trusted");
    return name;
  }

  UUID workspaceId(String name) {
    return CliHarness.workspaceId(admin, name);
  }

  /** Another CLI of the same account (a second laptop): same login, no device keys. */
  Path secondCli(String name) throws Exception {
    return h.secondCli(admin, name);
  }

  Path file(String name, String content) throws Exception {
    Path f = tmp.resolve(name + "-" + UUID.randomUUID());
    Files.writeString(f, content, StandardCharsets.UTF_8);
    return f;
  }

  /** Trusts a second CLI through the code flow; returns its home and device id. */
  record Second(Path home, String deviceId, String code) {}

  Second trustedSecond(String ws, String name) throws Exception {
    Path home = secondCli(name);
    UmbraRun req = ok(home, "device", "trust", "-w", ws, "--wait", "0", "--json", "--name", name);
    String id = req.json().getString("id");
    String code = req.json().getString("verification_code");
    assertThat(req.err()).contains(code);
    ok(admin, "devices", "approve", id, "--code", code, "-w", ws);
    assertThat(
            ok(home, "device", "trust", "-w", ws, "--wait", "5", "--json")
                .json()
                .getString("status"))
        .isEqualTo("trusted");
    return new Second(home, id, code);
  }

  @Test
  void firstOwnerDeviceCreatesTheKeysetAndTheVaultRoundTrips() throws Exception {
    String ws = protectedWorkspace("vault-ws");
    // idempotent, non-interactive: what `bin/umbra dev` runs on every start
    assertThat(ok(admin, "device", "trust", "-w", ws).out()).contains("trusted device");
    ok(
        admin,
        "vault",
        "put",
        "agent/context",
        "--from-file",
        file("v", "remember: deploys on friday are off").toString(),
        "-w",
        ws);
    assertThat(ok(admin, "vault", "get", "agent/context", "-w", ws).out())
        .isEqualTo("remember: deploys on friday are off");
    assertThat(ok(admin, "vault", "list", "-w", ws).out()).contains("agent/context");
    ok(
        admin,
        "vault",
        "put",
        "agent/context",
        "--from-file",
        file("v2", "v2").toString(),
        "-w",
        ws);
    assertThat(ok(admin, "vault", "get", "agent/context", "-w", ws).out()).isEqualTo("v2");
    ok(admin, "vault", "rm", "agent/context", "-w", ws);
    assertThat(umbra(admin, "vault", "get", "agent/context", "-w", ws).code()).isEqualTo(1);
    // a second "first device" cannot make another keyset
    Path other = secondCli("other-first");
    UmbraRun again = ok(other, "device", "trust", "-w", ws, "--wait", "0", "--json");
    assertThat(again.json().getString("status")).isEqualTo("pending");
    Path keyDir = admin.resolve("cli/devices").resolve(workspaceId(ws).toString());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyDir)))
        .isEqualTo("rwx------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(keyDir.resolve("p256.key"))))
        .isEqualTo("rw-------");
  }

  @Test
  void aNewDeviceIsTrustedOnlyWithItsCodeThenReadsTheVault() throws Exception {
    String ws = protectedWorkspace("code-ws");
    ok(admin, "vault", "put", "k", "--from-file", file("k", "shared secret").toString(), "-w", ws);
    Path laptop = secondCli("laptop");
    UmbraRun req =
        ok(laptop, "device", "trust", "-w", ws, "--wait", "0", "--json", "--name", "laptop");
    String id = req.json().getString("id");
    String code = req.json().getString("verification_code");
    assertThat(code).matches("[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}");
    // the approver sees the same code, computed on its side from the request's keys
    JsonObject listed =
        ok(admin, "devices", "list", "-w", ws, "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(j -> j.getString("id").equals(id))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getString("code")).isEqualTo(code);
    assertThat(umbra(laptop, "vault", "get", "k", "-w", ws).code()).isEqualTo(1);
    UmbraRun wrong =
        umbra(admin, "devices", "approve", id, "--code", "AAAA-AAAA-AAAA-AAAA", "-w", ws);
    assertThat(wrong.code()).isEqualTo(1);
    assertThat(wrong.err()).contains("does not match");
    ok(admin, "devices", "approve", id, "--code", code.toLowerCase(Locale.ROOT), "-w", ws);
    assertThat(ok(laptop, "device", "trust", "-w", ws, "--wait", "5").out()).contains("trusted");
    assertThat(ok(laptop, "vault", "get", "k", "-w", ws).out()).isEqualTo("shared secret");
    JsonObject seen =
        ok(admin, "devices", "list", "-w", ws, "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(j -> j.getString("id").equals(id))
            .findFirst()
            .orElseThrow();
    assertThat(seen.getString("verified")).isEqualTo("yes");
  }

  @Test
  void revocationIsSignedPublishedAndRotationRewrapsForTheRemainingDevices() throws Exception {
    String ws = protectedWorkspace("revoke-ws");
    ok(
        admin,
        "vault",
        "put",
        "old",
        "--from-file",
        file("o", "written under v1").toString(),
        "-w",
        ws);
    Second b = trustedSecond(ws, "tablet");
    Second c = trustedSecond(ws, "phone");
    UmbraRun rev = ok(admin, "devices", "revoke", b.deviceId(), "-w", ws, "--json");
    assertThat(rev.json().getInteger("keyset_version")).isEqualTo(2);
    // refused at once: the revoked device has no envelope of any version
    UmbraRun refused = umbra(b.home(), "vault", "get", "old", "-w", ws);
    assertThat(refused.code()).isEqualTo(1);
    // the remaining devices hold the new keyset and still read entries sealed under v1
    assertThat(ok(c.home(), "vault", "get", "old", "-w", ws).out()).isEqualTo("written under v1");
    ok(
        c.home(),
        "vault",
        "put",
        "new",
        "--from-file",
        file("n", "written under v2").toString(),
        "-w",
        ws);
    assertThat(ok(admin, "vault", "get", "new", "-w", ws).out()).isEqualTo("written under v2");
    assertThat(ok(admin, "vault", "list", "-w", ws, "--json").out())
        .contains("\"keyset_version\" : 2");
    Eventually.await(
        "the device's revocation on the bus",
        Duration.ofSeconds(5),
        () -> revocations.stream().anyMatch(r -> r.getSubjectId().equals(b.deviceId())));
    assertThat(revocations)
        .anyMatch(
            r ->
                r.getSubjectId().equals(b.deviceId())
                    && r.getKind() == RevokedKind.REVOKED_KIND_DEVICE);
    assertThat(umbra(admin, "devices", "revoke", b.deviceId(), "-w", ws).code()).isEqualTo(1);
  }

  // ---- daemon ----

  record Paired(Binding binding, Path dir, Ed25519KeyPair key) {}

  Paired pair(String ws, String name) {
    String code = ok(admin, "pair", "create", "--json", "-w", ws).json().getString("code");
    Path home = tmp.resolve("machine-" + name);
    ok(home, "daemon", "pair", code, "--url", cpUrl, "--name", name);
    BindingStore store = new BindingStore(home);
    Binding b =
        store.list().stream()
            .filter(x -> x.workspaceId().equals(workspaceId(ws)))
            .findFirst()
            .orElseThrow();
    return new Paired(b, store.root().resolve(b.machineId().toString()), store.signingKey(b));
  }

  DeviceTrust pinned(Paired p) {
    return new TrustStore(p.dir()).load(p.binding().workspaceId()).orElseThrow();
  }

  DeviceTrust synced(Paired p) {
    return new TrustSync(new JsonHttp(), Clock.systemUTC())
        .sync(p.binding(), p.dir(), p.key())
        .orElseThrow();
  }

  JsonObject deviceRow(String ws, String id) {
    CliContext ctx =
        new CliContext(admin, System.out, System.err, Map.of(), new JsonHttp(), Clock.systemUTC());
    return new Api(ctx).get("/v1/workspaces/" + workspaceId(ws) + "/devices/" + id);
  }

  String adminDeviceId(String ws) {
    return new DeviceStore(admin, workspaceId(ws)).require().id().toString();
  }

  static Signed credential(JsonObject row) {
    return Signed.fromJson(row.getJsonObject("credential"));
  }

  @Test
  void daemonPinsAtPairingAndVerifiesCredentialsOffline() throws Exception {
    String ws = protectedWorkspace("daemon-ws");
    Paired m = pair(ws, "box");
    assertThat(Files.exists(m.dir().resolve(TrustStore.FILE))).isTrue();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(m.dir().resolve(TrustStore.FILE))))
        .isEqualTo("rw-------");
    DeviceTrust trust = pinned(m);
    JsonObject adminRow = deviceRow(ws, adminDeviceId(ws));
    Ed25519PublicKey adminKey = Ed25519PublicKey.fromHex(adminRow.getString("ed25519_public_key"));
    assertThat(trust.isAuthorized(credential(adminRow), adminKey)).isTrue();
    assertThat(trust.isAuthorized(credential(adminRow), Ed25519KeyPair.generate().publicKey()))
        .isFalse();
    CliContext ctx =
        new CliContext(admin, System.out, System.err, Map.of(), new JsonHttp(), Clock.systemUTC());
    assertThat(
            trust.isAuthorized(
                new WorkspaceProtection(new Api(ctx), workspaceId(ws)).ownCredential(), adminKey))
        .isTrue();
    Second b = trustedSecond(ws, "ws-laptop");
    JsonObject bRow = deviceRow(ws, b.deviceId());
    assertThat(trust.isAuthorized(credential(bRow))).isTrue();
    // revocation + rotation: after a sync the daemon refuses the revoked device and every v1
    // credential
    ok(admin, "devices", "revoke", b.deviceId(), "-w", ws);
    DeviceTrust after = synced(m);
    assertThat(after.pin().keyset().version()).isEqualTo(2);
    assertThat(after.isAuthorized(credential(bRow))).isFalse();
    assertThat(after.isAuthorized(credential(adminRow)))
        .as("a v1 credential replayed after rotation")
        .isFalse();
    assertThat(after.isAuthorized(credential(deviceRow(ws, adminDeviceId(ws))))).isTrue();
    // persisted: a fresh load of the pin says the same
    assertThat(pinned(m).isAuthorized(credential(bRow))).isFalse();
    assertThat(pinned(m).pin().revoked()).contains(UUID.fromString(b.deviceId()));
  }

  @Test
  void aGrantedDaemonReadsTheVaultAndAServerMadeGrantIsRefused() throws Exception {
    String ws = protectedWorkspace("grant-ws");
    UUID wid = workspaceId(ws);
    Paired m = pair(ws, "gbox");
    Path machineHome = m.dir().getParent().getParent().getParent();
    ok(
        admin,
        "vault",
        "put",
        "deploy/key",
        "--from-file",
        file("d", "ssh-ed25519 AAAA deploy").toString(),
        "-w",
        ws);
    assertThat(umbra(machineHome, "vault", "machine-get", "deploy/key").code())
        .as("not granted yet")
        .isEqualTo(1);
    String code =
        ok(machineHome, "vault", "machine-code", "--json")
            .array()
            .getJsonObject(0)
            .getString("code");
    String mid = m.binding().machineId().toString();
    UmbraRun wrong = umbra(admin, "vault", "grant", mid, "--code", "AAAA-AAAA-AAAA-AAAA", "-w", ws);
    assertThat(wrong.code()).isEqualTo(1);
    assertThat(wrong.err()).contains("does not match");
    ok(admin, "vault", "grant", mid, "--code", code, "-w", ws);
    assertThat(ok(machineHome, "vault", "machine-get", "deploy/key").out())
        .isEqualTo("ssh-ed25519 AAAA deploy");

    // a hostile server seals a grant of its own keys to the machine and an entry to those keys
    X25519KeyPair serverKey = X25519KeyPair.generate();
    var grant =
        dev.umbra.client.vault.VaultGrants.seal(
            new BindingStore(machineHome).agreementKey(m.binding()).publicKey(),
            wid,
            m.binding().machineId(),
            1,
            Map.of(1, serverKey));
    var entry =
        dev.umbra.client.vault.VaultCrypto.seal(
            serverKey.publicKey(),
            wid,
            "deploy/key",
            1,
            "attacker's key".getBytes(StandardCharsets.UTF_8));
    sql(
        "UPDATE control_plane.vault_grants SET enc = ?, ciphertext = ? WHERE machine_id = ?",
        grant.enc(),
        grant.ciphertext(),
        m.binding().machineId());
    sql(
        "UPDATE control_plane.vault_entries SET enc = ?, ciphertext = ? WHERE workspace_id = ? AND name = 'deploy/key'",
        entry.enc(),
        entry.ciphertext(),
        wid);
    UmbraRun forged = umbra(machineHome, "vault", "machine-get", "deploy/key");
    assertThat(forged.code()).isEqualTo(1);
    assertThat(forged.err()).contains("not the pinned workspace key");
    assertThat(forged.out()).doesNotContain("attacker");
  }

  @Test
  void aDaemonPairedBeforeTheKeysetExistedPinsItOnFirstSync() throws Exception {
    ok(admin, "workspace", "create", "late-keyset");
    Paired m = pair("late-keyset", "early");
    assertThat(Files.exists(m.dir().resolve(TrustStore.FILE))).isFalse();
    assertThat(new TrustSync(new JsonHttp(), Clock.systemUTC()).sync(m.binding(), m.dir(), m.key()))
        .isEmpty();
    ok(admin, "device", "trust", "-w", "late-keyset");
    DeviceTrust t = synced(m);
    assertThat(t.pin().keyset().version()).isEqualTo(1);
    assertThat(t.isAuthorized(credential(deviceRow("late-keyset", adminDeviceId("late-keyset")))))
        .isTrue();
    assertThat(Files.exists(m.dir().resolve(TrustStore.FILE))).isTrue();
  }

  @Test
  void daemonRunnerSyncsTheTrustAtStartAndOnEachRoundSoApprovalsAndRevocationsReachTheDaemon()
      throws Exception {
    ok(admin, "workspace", "create", "runner-ws");
    Paired m = pair("runner-ws", "rbox");
    Path machineHome = m.dir().getParent().getParent().getParent();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    DaemonRunner runner =
        new DaemonRunner(
            new JsonHttp(),
            new BindingStore(machineHome),
            Clock.systemUTC(),
            new PrintStream(log, true, StandardCharsets.UTF_8));
    assertThat(runner.syncTrust()).isZero();
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("no keyset yet");
    // the keyset appears after pairing: the daemon's start (run --once too) pins it
    ok(admin, "device", "trust", "-w", "runner-ws");
    assertThat(runner.run(true)).isZero();
    assertThat(pinned(m).pin().keyset().version()).isEqualTo(1);
    assertThat(log.toString(StandardCharsets.UTF_8))
        .contains("keyset version 1, 0 revoked device(s)");
    // an unchanged state is not logged again
    int before = log.size();
    assertThat(runner.syncTrust()).isEqualTo(1);
    assertThat(log.size()).isEqualTo(before);
    // an approval, then a revocation (which rotates the keyset): the next round follows both
    Second b = trustedSecond("runner-ws", "runner-laptop");
    Signed bCred = credential(deviceRow("runner-ws", b.deviceId()));
    assertThat(runner.syncTrust()).isEqualTo(1);
    assertThat(pinned(m).isAuthorized(bCred)).isTrue();
    ok(admin, "devices", "revoke", b.deviceId(), "-w", "runner-ws");
    assertThat(runner.syncTrust()).isEqualTo(1);
    DeviceTrust after = pinned(m);
    assertThat(after.pin().keyset().version()).isEqualTo(2);
    assertThat(after.isAuthorized(bCred)).isFalse();
    assertThat(after.isAuthorized(credential(deviceRow("runner-ws", adminDeviceId("runner-ws")))))
        .isTrue();
    String text = log.toString(StandardCharsets.UTF_8);
    assertThat(text).contains("keyset version 2, 1 revoked device(s)");
    // no keys, signatures or credentials in the log
    assertThat(text)
        .doesNotContain(after.pin().keyset().signingKey().toHex())
        .doesNotContain(TrustModel.Credential.of(bCred).keys().signingKey().toHex())
        .doesNotContain(HexFormat.of().formatHex(bCred.signature()).substring(0, 32));
  }

  // ---- hostile control plane ----

  void sql(String sql, Object... args) throws Exception {
    try (Connection c = pg.ownerConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }

  @Test
  void hostileControlPlaneDeviceInsertedIntoPgIsRefusedByDaemonAndClients() throws Exception {
    String ws = protectedWorkspace("hostile-insert");
    UUID wid = workspaceId(ws);
    Paired m = pair(ws, "hbox");
    // the server adds a device of its own, "trusted", with a credential signed by a key of its own
    Ed25519KeyPair serverDevice = Ed25519KeyPair.generate();
    P256KeyPair serverP256 = P256KeyPair.generate();
    Ed25519KeyPair serverWorkspaceKey = Ed25519KeyPair.generate();
    UUID fake = UUID.randomUUID();
    TrustModel.DeviceKeys keys =
        new TrustModel.DeviceKeys(serverDevice.publicKey(), serverP256.publicKey());
    Signed req =
        Signed.sign(
            new TrustModel.Request(wid, fake, keys, "evil", "cli", System.currentTimeMillis())
                .fields(),
            serverDevice.privateKey());
    Signed cred =
        Signed.sign(
            new TrustModel.Credential(wid, fake, 1, keys, "evil", "cli", "2026-01-01T00:00:00Z")
                .fields(),
            serverWorkspaceKey.privateKey());
    UUID account = UUID.fromString(deviceRow(ws, adminDeviceId(ws)).getString("account_id"));
    sql(
        "INSERT INTO control_plane.devices (workspace_id, id, account_id, ed25519_public_key, p256_public_key, name, kind, status, request_payload, "
            + "request_signature, credential_payload, credential_signature, keyset_version, created_at, approved_at) "
            + "VALUES (?, ?, ?, ?, ?, 'evil', 'cli', 'trusted', ?, ?, ?, ?, 1, now(), now())",
        wid,
        fake,
        account,
        serverDevice.publicKey().toBytes(),
        serverP256.publicKey().toBytes(),
        req.payload(),
        req.signature(),
        cred.payload(),
        cred.signature());
    // the daemon: the workspace key never signed it
    assertThat(synced(m).isAuthorized(cred)).isFalse();
    assertThat(synced(m).isAuthorized(cred, serverDevice.publicKey())).isFalse();
    // clients: listed as unverified, and a rotation refuses to wrap the keyset for it
    JsonObject listed =
        ok(admin, "devices", "list", "-w", ws, "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(j -> j.getString("id").equals(fake.toString()))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getString("verified")).isEqualTo("no");
    Second victim = trustedSecond(ws, "victim");
    UmbraRun rotate = umbra(admin, "devices", "revoke", victim.deviceId(), "-w", ws);
    assertThat(rotate.code()).isEqualTo(1);
    assertThat(rotate.err()).contains("never signed");
  }

  @Test
  void hostileControlPlaneSwappedKeyChangesTheCodeAndIsNotApproved() throws Exception {
    String ws = protectedWorkspace("hostile-swap");
    UUID wid = workspaceId(ws);
    Path laptop = secondCli("swap-laptop");
    UmbraRun req =
        ok(laptop, "device", "trust", "-w", ws, "--wait", "0", "--json", "--name", "laptop");
    String id = req.json().getString("id");
    String shownOnTheDevice = req.json().getString("verification_code");
    // the server substitutes its own keys (and re-signs the request with them) under the same
    // device id
    Ed25519KeyPair serverKey = Ed25519KeyPair.generate();
    P256KeyPair serverP256 = P256KeyPair.generate();
    TrustModel.DeviceKeys swapped =
        new TrustModel.DeviceKeys(serverKey.publicKey(), serverP256.publicKey());
    Signed forged =
        Signed.sign(
            new TrustModel.Request(
                    wid, UUID.fromString(id), swapped, "laptop", "cli", System.currentTimeMillis())
                .fields(),
            serverKey.privateKey());
    sql(
        "UPDATE control_plane.devices SET ed25519_public_key = ?, p256_public_key = ?, request_payload = ?, request_signature = ? WHERE id = ?",
        serverKey.publicKey().toBytes(),
        serverP256.publicKey().toBytes(),
        forged.payload(),
        forged.signature(),
        UUID.fromString(id));
    JsonObject listed =
        ok(admin, "devices", "list", "-w", ws, "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(j -> j.getString("id").equals(id))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getString("code"))
        .as("a server substituting its own key changes the code")
        .isNotEqualTo(shownOnTheDevice);
    UmbraRun approve = umbra(admin, "devices", "approve", id, "--code", shownOnTheDevice, "-w", ws);
    assertThat(approve.code()).isEqualTo(1);
    assertThat(approve.err()).contains("does not match");
    assertThat(deviceRow(ws, id).getString("status")).isEqualTo("pending");
  }

  @Test
  void hostileControlPlaneReplayedApprovalIsRefusedByDaemonAndClient() throws Exception {
    String ws = protectedWorkspace("hostile-replay");
    Paired m = pair(ws, "rbox");
    JsonObject adminRow = deviceRow(ws, adminDeviceId(ws));
    Path laptop = secondCli("replay-laptop");
    String id =
        ok(laptop, "device", "trust", "-w", ws, "--wait", "0", "--json").json().getString("id");
    // the server marks the pending device trusted by replaying the first device's approval
    sql(
        "UPDATE control_plane.devices SET status = 'trusted', credential_payload = ?, credential_signature = ?, keyset_version = 1 WHERE id = ?",
        adminRow.getJsonObject("credential").getString("payload"),
        HexFormat.of().parseHex(adminRow.getJsonObject("credential").getString("signature")),
        UUID.fromString(id));
    UmbraRun client = umbra(laptop, "device", "trust", "-w", ws, "--wait", "1");
    assertThat(client.code()).isEqualTo(1);
    assertThat(client.err()).contains("does not verify");
    JsonObject row = deviceRow(ws, id);
    Ed25519PublicKey laptopKey = Ed25519PublicKey.fromHex(row.getString("ed25519_public_key"));
    assertThat(synced(m).isAuthorized(credential(row), laptopKey)).isFalse();
    JsonObject listed =
        ok(admin, "devices", "list", "-w", ws, "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(j -> j.getString("id").equals(id))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getString("verified")).isEqualTo("no");
  }

  @Test
  void hostileControlPlaneForkedKeysetChainIsRefusedByDaemonAndClient() throws Exception {
    String ws = protectedWorkspace("hostile-fork");
    UUID wid = workspaceId(ws);
    Paired m = pair(ws, "fbox");
    Ed25519KeyPair serverKey = Ed25519KeyPair.generate();
    TrustModel.Keyset fake =
        new TrustModel.Keyset(
            wid,
            2,
            serverKey.publicKey(),
            dev.umbra.crypto.keys.X25519KeyPair.generate().publicKey(),
            "2026-01-01T00:00:00Z");
    Signed forged = Signed.sign(fake.fields(), serverKey.privateKey());
    sql(
        "INSERT INTO control_plane.keysets (workspace_id, version, payload, signature, created_at) VALUES (?, 2, ?, ?, now())",
        wid,
        forged.payload(),
        forged.signature());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> synced(m))
        .isInstanceOf(dev.umbra.crypto.CryptoException.class);
    assertThat(pinned(m).pin().keyset().version()).isEqualTo(1);
    UmbraRun put =
        umbra(
            admin,
            "vault",
            "put",
            "x",
            "--from-file",
            file("x", "never to the server's key").toString(),
            "-w",
            ws);
    assertThat(put.code()).isEqualTo(1);
    assertThat(put.err()).contains("does not verify");
  }

  @Test
  void hostileControlPlaneMovingCiphertextBetweenNamesIsRefused() throws Exception {
    String ws = protectedWorkspace("hostile-vault");
    UUID wid = workspaceId(ws);
    ok(
        admin,
        "vault",
        "put",
        "prod/token",
        "--from-file",
        file("a", "the real production token").toString(),
        "-w",
        ws);
    ok(admin, "vault", "put", "scratch", "--from-file", file("b", "harmless").toString(), "-w", ws);
    sql(
        "UPDATE control_plane.vault_entries t SET enc = s.enc, ciphertext = s.ciphertext FROM control_plane.vault_entries s "
            + "WHERE t.workspace_id = ? AND s.workspace_id = t.workspace_id AND t.name = 'scratch' AND s.name = 'prod/token'",
        wid);
    UmbraRun moved = umbra(admin, "vault", "get", "scratch", "-w", ws);
    assertThat(moved.code()).isEqualTo(1);
    assertThat(moved.err()).contains("does not decrypt");
    sql(
        "UPDATE control_plane.vault_entries SET ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1) WHERE workspace_id = ? AND name = 'prod/token'",
        wid);
    assertThat(umbra(admin, "vault", "get", "prod/token", "-w", ws).code()).isEqualTo(1);
  }

  @Test
  void vaultCandidatesAreCiphertextUntilATrustedDeviceAcceptsThem() throws Exception {
    String ws = protectedWorkspace("candidates-ws");
    Path agent = secondCli("agent");
    UmbraRun proposed =
        ok(
            agent,
            "vault",
            "propose",
            "agent/notes",
            "--from-file",
            file("n", "the agent learned this").toString(),
            "-w",
            ws,
            "--json");
    String id = proposed.json().getString("id");
    assertThat(ok(admin, "vault", "candidates", "-w", ws).out()).contains("agent/notes");
    assertThat(umbra(agent, "vault", "accept", id, "-w", ws).code())
        .as("not a trusted device")
        .isEqualTo(1);
    ok(admin, "vault", "accept", id, "-w", ws);
    assertThat(ok(admin, "vault", "get", "agent/notes", "-w", ws).out())
        .isEqualTo("the agent learned this");
    assertThat(ok(admin, "vault", "candidates", "-w", ws, "--json").array()).isEmpty();
    String other =
        ok(
                agent,
                "vault",
                "propose",
                "junk",
                "--from-file",
                file("j", "junk").toString(),
                "-w",
                ws,
                "--json")
            .json()
            .getString("id");
    ok(admin, "vault", "reject", other, "-w", ws);
    assertThat(ok(admin, "vault", "candidates", "-w", ws, "--json").array()).isEmpty();
  }

  // ---- recovery ----

  @Test
  void recoveryKitRestoresAccessAfterEveryDeviceKeyIsDeleted() throws Exception {
    String ws = protectedWorkspace("recovery-ws");
    UUID wid = workspaceId(ws);
    Path kitFile = tmp.resolve("kit-" + UUID.randomUUID() + ".json");
    UmbraRun created =
        ok(admin, "recovery-kit", "create", "--out", kitFile.toString(), "-w", ws, "--json");
    String kitId = created.json().getString("id");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kitFile)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(Path.of(created.json().getString("printable"))))
        .contains("UMBRA RECOVERY KIT")
        .contains("unrecoverable");
    ok(admin, "recovery-kit", "confirm", kitId, "-w", ws);
    ok(
        admin,
        "vault",
        "put",
        "db-password",
        "--from-file",
        file("p", "correct horse battery staple").toString(),
        "-w",
        ws);

    // every device key is lost
    Path devices = admin.resolve("cli/devices").resolve(wid.toString());
    try (var s = Files.list(devices)) {
      for (Path f : s.toList()) {
        Files.delete(f);
      }
    }
    assertThat(umbra(admin, "vault", "get", "db-password", "-w", ws).code()).isEqualTo(1);
    UmbraRun restored = ok(admin, "recovery-kit", "restore", kitFile.toString(), "--json");
    assertThat(restored.json().getString("status")).isEqualTo("trusted");
    assertThat(ok(admin, "vault", "get", "db-password", "-w", ws).out())
        .isEqualTo("correct horse battery staple");

    // rotate: the old kit stays valid until the new one is confirmed, then it is retired
    Path newKit = tmp.resolve("kit2-" + UUID.randomUUID() + ".json");
    String newId =
        ok(admin, "recovery-kit", "rotate", "--out", newKit.toString(), "-w", ws, "--json")
            .json()
            .getString("id");
    ok(admin, "recovery-kit", "restore", kitFile.toString());
    ok(admin, "recovery-kit", "confirm", newId, "-w", ws);
    assertThat(umbra(admin, "recovery-kit", "restore", kitFile.toString()).code()).isEqualTo(1);
    ok(admin, "recovery-kit", "restore", newKit.toString());
    assertThat(ok(admin, "vault", "get", "db-password", "-w", ws).out())
        .isEqualTo("correct horse battery staple");
  }

  @Test
  void damagedKitFilesAreRefused() throws Exception {
    for (String bad :
        List.of(
            "",
            "{",
            "[]",
            "{\"format\":\"umbra-recovery-kit/v1\"}",
            "{\"format\":\"other\"}",
            "{\"format\":\"umbra-recovery-kit/v1\",\"workspace_id\":\"x\",\"kit_id\":\"y\",\"recovery_private_key\":\"00\"}")) {
      UmbraRun r = umbra(admin, "recovery-kit", "restore", file("bad-kit", bad).toString());
      assertThat(r.code()).as(bad).isEqualTo(1);
      assertThat(r.err()).as(bad).contains("Recovery Kit");
    }
  }

  // ---- canary ----

  @Test
  void vaultContentsAndThePrivateKeysetNeverAppearInPgRedisOrLogs() throws Exception {
    String ws = protectedWorkspace("canary-ws");
    UUID wid = workspaceId(ws);
    String canary = "canary-" + UUID.randomUUID();
    ok(admin, "vault", "put", "canary", "--from-file", file("c", canary).toString(), "-w", ws);
    String candidateCanary = "candidate-canary-" + UUID.randomUUID();
    ok(
        admin,
        "vault",
        "propose",
        "canary-candidate",
        "--from-file",
        file("cc", candidateCanary).toString(),
        "-w",
        ws);
    Path kitFile = tmp.resolve("canary-kit-" + UUID.randomUUID() + ".json");
    ok(admin, "recovery-kit", "create", "--out", kitFile.toString(), "-w", ws);
    Second b = trustedSecond(ws, "canary-laptop");
    assertThat(ok(b.home(), "vault", "get", "canary", "-w", ws).out()).isEqualTo(canary);
    CliContext ctx =
        new CliContext(admin, System.out, System.err, Map.of(), new JsonHttp(), Clock.systemUTC());
    KeysetBundle bundle = new WorkspaceProtection(new Api(ctx), wid).unlock();
    HexFormat hex = HexFormat.of();
    List<String> secrets = new ArrayList<>();
    secrets.add(canary);
    secrets.add(candidateCanary);
    secrets.add(hex.formatHex(canary.getBytes(StandardCharsets.UTF_8)));
    secrets.add(hex.formatHex(bundle.signing().privateKey().exportPrivateBytes()));
    secrets.add(hex.formatHex(bundle.encryption().privateKey().exportPrivateBytes()));
    secrets.add(new JsonObject(Files.readString(kitFile)).getString("recovery_private_key"));
    secrets.add(
        hex.formatHex(
            new DeviceStore(admin, wid).require().envelope().privateKey().exportPrivateBytes()));

    String[] all = secrets.toArray(String[]::new);
    CanaryScan.Result tables = traces.tables(all);
    assertThat(tables.scanned())
        .contains(
            "control_plane.vault_entries",
            "control_plane.keyset_envelopes",
            "control_plane.keysets");
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      try (ResultSet rs =
          st.executeQuery(
              "SELECT count(*) FROM control_plane.vault_entries WHERE workspace_id = '"
                  + wid
                  + "'")) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(1);
      }
    }
    assertThat(tables.found()).isEmpty();
    assertThat(traces.redis(all).scanned()).as("Redis keys of this run").isNotEmpty();
    assertThat(traces.logLines()).as("log lines of this run").isNotEmpty();
    assertThat(traces.outsideTables(all)).isEmpty();
  }
}
