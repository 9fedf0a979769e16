package dev.umbra.cli.tty;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.UmbraCli;
import dev.umbra.cli.devices.DeviceStore;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.cli.relay.RelayClient;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.ClientAuth;
import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.client.channel.OpenedChannel;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.client.tty.ServerTrust;
import dev.umbra.client.tty.TtyClient;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.daemon.tty.AuthorizedKeys;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.daemon.tty.TtyServer;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestSockets;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * WebTTY and relay channels under Workspace Protection, end to end on a real control plane, pairing
 * service, webtty-engine, relay, PostgreSQL and Redis: the daemon authorizes a terminal (or an
 * `umbra run` channel) only for a device whose credential the pinned workspace key signed,
 * presented in the ClientProof (or the encrypted Noise message 1) and bound to the key that signed
 * the proof (or to the client's Noise static key) (docs/webtty.md, docs/relay.md,
 * docs/device-trust.md).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TtyDeviceTrustTest {
  // Vert.x closes a client that has become unreachable (a Cleaner): an inline
  // createWebSocketClient() could be collected mid-handshake ("Connection closed while handshake
  // in process") or under an open socket, so every client a test opens stays referenced here.
  private final List<WebSocketClient> clients = new java.util.ArrayList<>();

  static final String BOOTSTRAP = "bootstrap-token-for-the-tty-trust-test-0123456789";
  CliHarness h;
  Vertx vertx;
  TestPostgres pg;
  Path tmp;
  Path admin;
  Path machine;
  String cpUrl;
  UUID wid;
  String serverId;
  BindingStore store;
  Binding binding;
  TtyDaemon daemon;
  DaemonRelay relay;

  @BeforeAll
  void start() throws Exception {
    h =
        CliHarness.start(
            "tty-trust",
            BOOTSTRAP,
            ServiceName.PAIRING,
            ServiceName.WEBTTY_ENGINE,
            ServiceName.RELAY);
    vertx = h.vertx;
    pg = h.pg;
    tmp = h.tmp;
    cpUrl = h.cpUrl;
    admin = tmp.resolve("admin");
    machine = tmp.resolve("machine");
    ok(admin, "login", cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
    // Workspace Protection first: the admin CLI creates the keyset and is its first trusted device
    ok(admin, "device", "trust", "-w", "dev");
    String pairing =
        ok(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    ok(machine, "daemon", "pair", pairing, "--url", cpUrl, "--name", "local");
    store = new BindingStore(machine);
    binding = store.list().get(0);
    wid = binding.workspaceId();
    serverId = binding.machineId().toString();
    // the legacy key list names the admin's WebTTY key: it must not count once a keyset is pinned
    new AuthorizedKeys(store.root().resolve(serverId))
        .add(TtyKeys.loadOrCreate(admin).signing().publicKey(), "admin cli");
    DaemonRunner runner =
        new DaemonRunner(
            new JsonHttp(), store, Clock.systemUTC(), new PrintStream(new ByteArrayOutputStream()));
    daemon = CliHarness.startTtyDaemon(machine, store);
    relay =
        DaemonRelay.start(
            new JsonHttp(),
            store,
            machine,
            (b, audience) -> runner.session(b, audience).getString("token"),
            null,
            new PrintStream(new ByteArrayOutputStream()),
            daemon::recheck);
    assertThat(relay.channels()).hasSize(1);
  }

  @AfterAll
  void stop() throws Exception {
    relay.close();
    daemon.close();
    h.close();
  }

  Api api(Path home) {
    return new Api(
        new CliContext(home, System.out, System.err, Map.of(), new JsonHttp(), Clock.systemUTC()));
  }

  /**
   * The daemon's pin follows the control plane's signed material (what DaemonRunner does
   * periodically).
   */
  void syncDaemon() {
    new TrustSync(new JsonHttp(), Clock.systemUTC())
        .sync(binding, store.root().resolve(serverId), store.signingKey(binding))
        .orElseThrow();
  }

  /** Another CLI of the same account, trusted through the code flow. */
  Path trustedSecond(String name) throws Exception {
    return h.trustedSecond(admin, name, "dev");
  }

  /**
   * Opens a terminal the way `umbra tty` does, but with the signing key and credential given;
   * returns the refusal.
   */
  String refusal(Ed25519KeyPair signing, Signed credential) throws Exception {
    Api api = api(admin);
    URI engine = URI.create(api.serviceUrl("webtty-engine"));
    TtyClient.Options o =
        new TtyClient.Options(
            engine,
            wid,
            () -> vertx.executeBlocking(() -> api.session(wid, "webtty-engine")),
            signing,
            X25519KeyPair.generate(),
            ServerTrust.pinned(tmp.resolve("pins-" + UUID.randomUUID())),
            List.of(),
            Clock.systemUTC(),
            credential);
    Future<TtyClient> f =
        TtyClient.open(
            vertx,
            o,
            ClientTls.system(),
            serverId,
            80,
            24,
            "xterm",
            new TtyClient.Listener() {
              @Override
              public void output(byte[] bytes) {}
            });
    try {
      TtyClient c = f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      c.terminate();
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause().getMessage();
    }
  }

  /**
   * Opens an `umbra run` channel the way the CLI does, with the given Noise static key and
   * message-1 payload; returns the daemon's refusal code, or null when it ran.
   */
  String relayRefusal(
      X25519KeyPair staticKey,
      java.util.function.Function<String, java.util.Optional<HandshakePayload.DeviceProof>> payload)
      throws Exception {
    Api api = api(admin);
    URI url = ChannelProtocol.relayWebSocketUrl(api.serviceUrl("relay"));
    RelayClient c =
        RelayClient.create(
                vertx,
                List.of(url),
                wid.toString(),
                () -> vertx.executeBlocking(() -> api.session(wid, "relay"), false),
                staticKey,
                null,
                dev.umbra.client.http.ClientTls.system())
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    try {
      c.deviceProof(payload);
      c.connect().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      ChannelStart start =
          ChannelStart.newBuilder().setRun(RunCommand.newBuilder().addArgv("true")).build();
      c.open(serverId, store.agreementKey(binding).publicKey(), start)
          .toCompletionStage()
          .toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause() instanceof ChannelClosedException cc
          ? cc.code()
          : e.getCause().toString();
    } finally {
      c.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  static java.util.function.Function<String, java.util.Optional<HandshakePayload.DeviceProof>> auth(
      Signed credential, Ed25519KeyPair device, UUID wid, X25519KeyPair staticKey) {
    return target ->
        java.util.Optional.of(
            ClientAuth.proof(credential, device, wid.toString(), target, staticKey.publicKey()));
  }

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
  @Order(1)
  void aTrustedDeviceOpensATerminalWithItsCredential() {
    UmbraRun tty = umbra(admin, "tty", "local", "--command", "echo trusted-$((6*7))");
    assertThat(tty.code()).as(tty.out() + tty.err()).isZero();
    assertThat(tty.out()).contains("trusted-42");
    UmbraRun run =
        umbra(admin, "run", "local", "--no-stdin", "--", "sh", "-c", "echo relay-$((6*7))");
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("relay-42");
  }

  @Test
  @Order(2)
  void aProofWithoutACredentialIsRefusedEvenWhenTheKeyListNamesItsKey() throws Exception {
    assertThat(refusal(TtyKeys.loadOrCreate(admin).signing(), null))
        .contains("proof_refused_no_device_credential");
    // relay: any workspace member's Noise static key, with an empty message-1 payload
    assertThat(relayRefusal(X25519KeyPair.generate(), target -> java.util.Optional.empty()))
        .isEqualTo("no_device_credential");
  }

  @Test
  @Order(3)
  void aDeviceInsertedIntoPostgresButNeverSignedByTheWorkspaceKeyIsRefused() throws Exception {
    Ed25519KeyPair device = Ed25519KeyPair.generate();
    P256KeyPair p256 = P256KeyPair.generate();
    UUID fake = UUID.randomUUID();
    TrustModel.DeviceKeys keys = new TrustModel.DeviceKeys(device.publicKey(), p256.publicKey());
    Signed req =
        Signed.sign(
            new TrustModel.Request(wid, fake, keys, "evil", "cli", System.currentTimeMillis())
                .fields(),
            device.privateKey());
    Signed cred =
        Signed.sign(
            new TrustModel.Credential(wid, fake, 1, keys, "evil", "cli", "2026-01-01T00:00:00Z")
                .fields(),
            Ed25519KeyPair.generate().privateKey());
    UUID adminDevice = new DeviceStore(admin, wid).require().id();
    UUID account =
        UUID.fromString(
            api(admin)
                .get("/v1/workspaces/" + wid + "/devices/" + adminDevice)
                .getString("account_id"));
    sql(
        "INSERT INTO control_plane.devices (workspace_id, id, account_id, ed25519_public_key, p256_public_key, name, kind, status, request_payload, "
            + "request_signature, credential_payload, credential_signature, keyset_version, created_at, approved_at) "
            + "VALUES (?, ?, ?, ?, ?, 'evil', 'cli', 'trusted', ?, ?, ?, ?, 1, now(), now())",
        wid,
        fake,
        account,
        device.publicKey().toBytes(),
        p256.publicKey().toBytes(),
        req.payload(),
        req.signature(),
        cred.payload(),
        cred.signature());
    // the control plane lists it as trusted, with that credential
    JsonObject listed = api(admin).get("/v1/workspaces/" + wid + "/devices/" + fake);
    assertThat(listed.getString("status")).isEqualTo("trusted");
    assertThat(Signed.fromJson(listed.getJsonObject("credential"))).isEqualTo(cred);
    syncDaemon();
    assertThat(refusal(device, cred)).contains("proof_refused_device_not_trusted");
    X25519KeyPair kx = X25519KeyPair.generate();
    assertThat(relayRefusal(kx, auth(cred, device, wid, kx))).isEqualTo("device_not_trusted");
    // (removed again: clients rightly refuse to rotate the keyset while it is listed)
    sql("DELETE FROM control_plane.devices WHERE id = ?", fake);
  }

  @Test
  @Order(4)
  void aCredentialOfOneDeviceWithTheProofKeyOfAnotherIsRefused() throws Exception {
    Path b = trustedSecond("laptop");
    syncDaemon();
    UmbraRun tty = umbra(b, "tty", "local", "--command", "echo laptop-ok");
    assertThat(tty.code()).as(tty.out() + tty.err()).isZero();
    assertThat(tty.out()).contains("laptop-ok");
    Signed adminCredential = new WorkspaceProtection(api(admin), wid).ownCredential();
    Ed25519KeyPair laptopKey = new DeviceStore(b, wid).require().signing();
    assertThat(refusal(laptopKey, adminCredential))
        .contains("proof_refused_credential_key_mismatch");
    assertThat(refusal(Ed25519KeyPair.generate(), adminCredential))
        .contains("proof_refused_credential_key_mismatch");
    // relay: the laptop runs; the admin's credential with the laptop's key, or the admin's genuine
    // static-key signature replayed with another Noise static key, is refused
    UmbraRun run = umbra(b, "run", "local", "--no-stdin", "--", "echo", "laptop-relay-ok");
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("laptop-relay-ok");
    X25519KeyPair laptopStatic = X25519KeyPair.generate();
    assertThat(relayRefusal(laptopStatic, auth(adminCredential, laptopKey, wid, laptopStatic)))
        .isEqualTo("static_key_not_bound");
    Ed25519KeyPair adminKey = new DeviceStore(admin, wid).require().signing();
    X25519KeyPair adminStatic = X25519KeyPair.generate();
    assertThat(relayRefusal(adminStatic, auth(adminCredential, adminKey, wid, adminStatic)))
        .isNull();
    assertThat(
            relayRefusal(
                X25519KeyPair.generate(), auth(adminCredential, adminKey, wid, adminStatic)))
        .isEqualTo("static_key_not_bound");
  }

  @Test
  @Order(5)
  void aRevokedDeviceIsRefusedAndTheRemainingDeviceKeepsWorkingAfterTheRotation() throws Exception {
    Path b = trustedSecond("tablet");
    syncDaemon();
    UUID tablet = new DeviceStore(b, wid).require().id();
    Signed tabletCredential = new WorkspaceProtection(api(b), wid).ownCredential();
    Ed25519KeyPair tabletKey = new DeviceStore(b, wid).require().signing();
    assertThat(refusal(tabletKey, tabletCredential)).isNull();
    X25519KeyPair tabletStatic = X25519KeyPair.generate();
    assertThat(relayRefusal(tabletStatic, auth(tabletCredential, tabletKey, wid, tabletStatic)))
        .isNull();
    ok(admin, "devices", "revoke", tablet.toString(), "-w", "dev");
    syncDaemon();
    assertThat(refusal(tabletKey, tabletCredential)).contains("proof_refused_device_revoked");
    assertThat(relayRefusal(tabletStatic, auth(tabletCredential, tabletKey, wid, tabletStatic)))
        .isEqualTo("device_revoked");
    UmbraRun run = umbra(admin, "run", "local", "--no-stdin", "--", "echo", "relay-still-ok");
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("relay-still-ok");
    UmbraRun tty = umbra(admin, "tty", "local", "--command", "echo still-$((2+3))");
    assertThat(tty.code()).as(tty.out() + tty.err()).isZero();
    assertThat(tty.out()).contains("still-5");
  }

  @Test
  @Order(6)
  void aRevokedDevicesOpenRelayChannelIsClosedAtOnceNotAtTheNextHeartbeat() throws Exception {
    Path phone = trustedSecond("phone");
    syncDaemon();
    UUID phoneId = new DeviceStore(phone, wid).require().id();
    Signed phoneCredential = new WorkspaceProtection(api(phone), wid).ownCredential();
    Ed25519KeyPair phoneKey = new DeviceStore(phone, wid).require().signing();
    X25519KeyPair phoneStatic = X25519KeyPair.generate();
    Api api = api(phone);
    RelayClient c =
        RelayClient.create(
                vertx,
                List.of(ChannelProtocol.relayWebSocketUrl(api.serviceUrl("relay"))),
                wid.toString(),
                () -> vertx.executeBlocking(() -> api.session(wid, "relay"), false),
                phoneStatic,
                null,
                dev.umbra.client.http.ClientTls.system())
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    try {
      c.deviceProof(auth(phoneCredential, phoneKey, wid, phoneStatic));
      c.connect().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      ChannelStart start =
          ChannelStart.newBuilder()
              .setRun(RunCommand.newBuilder().addArgv("sleep").addArgv("120"))
              .build();
      OpenedChannel opened =
          c.open(serverId, store.agreementKey(binding).publicKey(), start)
              .toCompletionStage()
              .toCompletableFuture()
              .get(20, TimeUnit.SECONDS);
      java.util.concurrent.CompletableFuture<String> ended =
          new java.util.concurrent.CompletableFuture<>();
      c.context()
          .runOnContext(
              v ->
                  opened.listen(
                      new dev.umbra.client.channel.SecureChannel.Listener() {
                        @Override
                        public void onMessage(dev.umbra.proto.channel.ChannelMessage m) {}

                        @Override
                        public void onClosed(ChannelClosedException error) {
                          ended.complete(error == null ? "done" : error.code());
                        }
                      }));
      long before = relay.channels().get(0).stats().revokedChannels.get();
      long t0 = System.nanoTime();
      // revoked by the admin; nobody calls syncDaemon(): the relay passes the revocation on, the
      // daemon refreshes its pin by itself and closes the channel (the heartbeat is a minute away)
      ok(admin, "devices", "revoke", phoneId.toString(), "-w", "dev");
      // the phone's sessions are bound to it: the relay itself closes its connection at once and
      // its
      // CLI gets no new session, so the channel ends on the phone's side with that reason; the
      // daemon, told by the relay, closes its side because the device was revoked
      assertThat(ended.get(15, TimeUnit.SECONDS)).isEqualTo(RelayClient.SESSION_REFUSED);
      Eventually.await(
          "the daemon closed the revoked device's channel",
          Duration.ofSeconds(15),
          () -> relay.channels().get(0).stats().revokedChannels.get() != before);
      assertThat((System.nanoTime() - t0) / 1_000_000)
          .isLessThan(DaemonRunner.HEARTBEAT.toMillis());
      assertThat(relay.channels().get(0).stats().revokedChannels.get()).isEqualTo(before + 1);
      // and the pin the daemon fetched refuses the device's new channels too
      assertThat(relayRefusal(phoneStatic, auth(phoneCredential, phoneKey, wid, phoneStatic)))
          .isEqualTo("device_revoked");
    } finally {
      c.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    // the revocation rotated the keyset and reissued the admin's credential: the relay passed that
    // on too, and the daemon accepts the new credential within seconds, without a manual sync
    UmbraRun run =
        Eventually.until(
            "the daemon accepts the admin's reissued credential",
            Duration.ofSeconds(15),
            () -> umbra(admin, "run", "local", "--no-stdin", "--", "echo", "admin-still-ok"),
            r -> r.code() == 0);
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("admin-still-ok");
  }

  @Test
  @Order(7)
  void aRevokedDevicesLiveTerminalIsEndedAtOnce() throws Exception {
    Path watch = trustedSecond("watch");
    syncDaemon();
    UUID watchId = new DeviceStore(watch, wid).require().id();
    Signed credential = new WorkspaceProtection(api(watch), wid).ownCredential();
    Ed25519KeyPair signing = new DeviceStore(watch, wid).require().signing();
    Api api = api(watch);
    URI engine = URI.create(api.serviceUrl("webtty-engine"));
    TtyClient.Options o =
        new TtyClient.Options(
            engine,
            wid,
            () -> vertx.executeBlocking(() -> api.session(wid, "webtty-engine")),
            signing,
            X25519KeyPair.generate(),
            ServerTrust.pinned(tmp.resolve("pins-" + UUID.randomUUID())),
            List.of(),
            Clock.systemUTC(),
            credential);
    java.util.concurrent.CompletableFuture<String> ended =
        new java.util.concurrent.CompletableFuture<>();
    TtyClient c =
        TtyClient.open(
                vertx,
                o,
                ClientTls.system(),
                serverId,
                80,
                24,
                "xterm",
                new TtyClient.Listener() {
                  @Override
                  public void output(byte[] bytes) {}

                  @Override
                  public void exit(int status) {
                    ended.complete("exit " + status);
                  }

                  @Override
                  public void closed(String reason) {
                    ended.complete(String.valueOf(reason));
                  }
                })
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    TtyServer server = daemon.servers().get(0);
    long before = server.stats().get("sessions_ended_client_refused");
    // the terminal runs; the admin revokes the device; no manual sync
    ok(admin, "devices", "revoke", watchId.toString(), "-w", "dev");
    String reason = ended.get(15, TimeUnit.SECONDS);
    // the engine ends the connection of the device-bound session at once; the daemon, told by the
    // relay, ends the session itself when its re-check refuses the revoked device
    Eventually.await(
        "the daemon ended the revoked device's session",
        Duration.ofSeconds(15),
        () -> server.stats().get("sessions_ended_client_refused") != before);
    assertThat(server.stats().get("sessions_ended_client_refused")).isEqualTo(before + 1);
    assertThat(reason).doesNotStartWith("exit");
    c.terminate();
  }

  /** A live terminal of one device, as `umbra tty` opens it: its output so far and how it ended. */
  record LiveTerminal(
      TtyClient client,
      StringBuffer output,
      java.util.concurrent.CompletableFuture<String> ended) {}

  LiveTerminal liveTerminal(Path home) throws Exception {
    Signed credential = new WorkspaceProtection(api(home), wid).ownCredential();
    Ed25519KeyPair signing = new DeviceStore(home, wid).require().signing();
    Api api = api(home);
    URI engine = URI.create(api.serviceUrl("webtty-engine"));
    TtyClient.Options o =
        new TtyClient.Options(
            engine,
            wid,
            () -> vertx.executeBlocking(() -> api.session(wid, "webtty-engine")),
            signing,
            X25519KeyPair.generate(),
            ServerTrust.pinned(tmp.resolve("pins-" + UUID.randomUUID())),
            List.of(),
            Clock.systemUTC(),
            credential);
    StringBuffer output = new StringBuffer();
    java.util.concurrent.CompletableFuture<String> ended =
        new java.util.concurrent.CompletableFuture<>();
    TtyClient c =
        TtyClient.open(
                vertx,
                o,
                ClientTls.system(),
                serverId,
                80,
                24,
                "xterm",
                new TtyClient.Listener() {
                  @Override
                  public void output(byte[] bytes) {
                    output.append(new String(bytes, StandardCharsets.UTF_8));
                  }

                  @Override
                  public void exit(int status) {
                    ended.complete("exit " + status);
                  }

                  @Override
                  public void closed(String reason) {
                    ended.complete(String.valueOf(reason));
                  }
                })
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    return new LiveTerminal(c, output, ended);
  }

  /** A live relay channel of one device running `cat` (what `umbra run <machine> -- cat` opens). */
  record LiveChannel(
      RelayClient client,
      OpenedChannel opened,
      StringBuffer output,
      java.util.concurrent.CompletableFuture<String> ended) {
    void send(String text) {
      client
          .context()
          .runOnContext(
              v ->
                  opened
                      .channel()
                      .send(
                          dev.umbra.proto.channel.ChannelMessage.newBuilder()
                              .setData(
                                  dev.umbra.proto.channel.StreamData.newBuilder()
                                      .setStream(dev.umbra.proto.channel.Stream.STREAM_STDIN)
                                      .setBytes(com.google.protobuf.ByteString.copyFromUtf8(text)))
                              .build()));
    }
  }

  LiveChannel liveChannel(Path home) throws Exception {
    Signed credential = new WorkspaceProtection(api(home), wid).ownCredential();
    Ed25519KeyPair key = new DeviceStore(home, wid).require().signing();
    X25519KeyPair staticKey = X25519KeyPair.generate();
    Api api = api(home);
    RelayClient c =
        RelayClient.create(
                vertx,
                List.of(ChannelProtocol.relayWebSocketUrl(api.serviceUrl("relay"))),
                wid.toString(),
                () -> vertx.executeBlocking(() -> api.session(wid, "relay"), false),
                staticKey,
                null,
                dev.umbra.client.http.ClientTls.system())
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    c.deviceProof(auth(credential, key, wid, staticKey));
    c.connect().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    ChannelStart start =
        ChannelStart.newBuilder().setRun(RunCommand.newBuilder().addArgv("cat")).build();
    OpenedChannel opened =
        c.open(serverId, store.agreementKey(binding).publicKey(), start)
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    StringBuffer output = new StringBuffer();
    java.util.concurrent.CompletableFuture<String> ended =
        new java.util.concurrent.CompletableFuture<>();
    c.context()
        .runOnContext(
            v ->
                opened.listen(
                    new dev.umbra.client.channel.SecureChannel.Listener() {
                      @Override
                      public void onMessage(dev.umbra.proto.channel.ChannelMessage m) {
                        if (m.hasData()) {
                          output.append(m.getData().getBytes().toStringUtf8());
                        } else if (m.hasExit()) {
                          ended.complete("exit");
                        }
                      }

                      @Override
                      public void onClosed(ChannelClosedException error) {
                        ended.complete(error == null ? "done" : error.code());
                      }
                    }));
    return new LiveChannel(c, opened, output, ended);
  }

  static void awaitContains(StringBuffer output, String expected, String what) throws Exception {
    Eventually.await(
        what + ": output contains " + expected,
        Duration.ofSeconds(15),
        () -> output.toString().contains(expected));
  }

  @Test
  @Order(8)
  void revokingOneDeviceEndsExactlyItsTerminalAndChannelWhileAnotherTrustedDevicesContinue()
      throws Exception {
    Path x = trustedSecond("x-laptop");
    Path y = trustedSecond("y-desktop");
    syncDaemon();
    UUID xId = new DeviceStore(x, wid).require().id();
    LiveTerminal xTty = liveTerminal(x);
    LiveTerminal yTty = liveTerminal(y);
    LiveChannel xRun = liveChannel(x);
    LiveChannel yRun = liveChannel(y);
    try {
      yTty.client().send("echo y-before-$((1+1))\n".getBytes(StandardCharsets.UTF_8));
      awaitContains(yTty.output(), "y-before-2", "Y's terminal before the revocation");
      yRun.send("y-ping-1\n");
      awaitContains(yRun.output(), "y-ping-1", "Y's channel before the revocation");
      int before = TrustStore.forBinding(store, binding).orElseThrow().pin().keyset().version();
      TtyServer server = daemon.servers().get(0);
      var channelStats = relay.channels().get(0).stats();
      long endedSessions = server.stats().get("sessions_ended_client_refused");
      long closedChannels = channelStats.revokedChannels.get();

      // X is revoked (and, as the CLI does by default, the keyset rotates); nobody syncs the daemon
      // by hand
      ok(admin, "devices", "revoke", xId.toString(), "-w", "dev");
      // X's sessions are bound to X: the engine and the relay end its connections themselves (the
      // daemon's own refusal, device_revoked, comes after and is counted below)
      assertThat(xTty.ended().get(15, TimeUnit.SECONDS)).isEqualTo("revoked");
      assertThat(xRun.ended().get(15, TimeUnit.SECONDS)).isEqualTo(RelayClient.SESSION_REFUSED);

      // the daemon's refresh after the rotation has re-checked both channels and terminals
      Eventually.await(
          "channels and terminals re-checked under the rotated keyset",
          Duration.ofSeconds(20),
          () ->
              channelStats.recheckedKeysetVersion.get() > before
                  && server.stats().get("rechecked_keyset_version") > before);
      assertThat(TrustStore.forBinding(store, binding).orElseThrow().pin().keyset().version())
          .as("rotated")
          .isEqualTo(before + 1);
      assertThat(channelStats.recheckedKeysetVersion.get())
          .as("channels re-checked under the rotated keyset")
          .isEqualTo(before + 1);
      assertThat(server.stats().get("rechecked_keyset_version"))
          .as("terminals re-checked under the rotated keyset")
          .isEqualTo(before + 1);

      // Y's terminal and channel were kept and still work
      yTty.client().send("echo y-after-$((3+4))\n".getBytes(StandardCharsets.UTF_8));
      awaitContains(yTty.output(), "y-after-7", "Y's terminal after the revocation and rotation");
      yRun.send("y-ping-2\n");
      awaitContains(yRun.output(), "y-ping-2", "Y's channel after the revocation and rotation");
      assertThat(yTty.ended()).as("Y's terminal").isNotDone();
      assertThat(yRun.ended()).as("Y's channel").isNotDone();
      assertThat(server.stats().get("sessions_ended_client_refused"))
          .as("only X's terminal ended")
          .isEqualTo(endedSessions + 1);
      assertThat(channelStats.revokedChannels.get())
          .as("only X's channel closed")
          .isEqualTo(closedChannels + 1);
    } finally {
      yTty.client().terminate();
      xTty.client().terminate();
      for (LiveChannel c : List.of(xRun, yRun)) {
        c.client().close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }

  // ---------------------------------------------------------------- device-bound sessions of the
  // CLI

  /** The claims of a session token (its payload, read here; the services verify its signature). */
  static JsonObject claims(String jwt) {
    return new JsonObject(
        new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  /**
   * A WebSocket to a service opened with a session token; {@code closed} completes with its close
   * code.
   */
  record Socket(WebSocket socket, CompletableFuture<Short> closed) {}

  WebSocketConnectOptions upgrade(URI service, String path, String token) {
    return new WebSocketConnectOptions()
        .setHost(service.getHost())
        .setPort(service.getPort())
        .setURI(path)
        .setTimeout(5000)
        .addHeader("authorization", "Bearer " + token);
  }

  private WebSocketClient heldClient() {
    WebSocketClient client = vertx.createWebSocketClient();
    clients.add(client);
    return client;
  }

  Socket socket(URI service, String path, String token) throws Exception {
    CompletableFuture<Short> closed = new CompletableFuture<>();
    // handlers before the upgrade: a close sent with it (a refused device) reaches them
    WebSocket ws =
        TestSockets.open(
            heldClient(),
            upgrade(service, path, token),
            s -> s.handler(b -> {}),
            s -> closed.complete(s.closeStatusCode()),
            Duration.ofSeconds(10));
    return new Socket(ws, closed);
  }

  /** The status that refused an upgrade with {@code token}, or 101 when it was accepted. */
  int upgradeStatus(URI service, String path, String token) throws Exception {
    try {
      heldClient()
          .connect(upgrade(service, path, token))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS)
          .close();
      return 101;
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause() instanceof UpgradeRejectedException r ? r.getStatus() : -1;
    }
  }

  int pairingStatus(Api api, String token) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(api.serviceUrl("pairing") + "/v1/workspaces/" + wid + "/codes"))
                    .header("authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(5))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return r.statusCode();
  }

  static final List<String> AUDIENCES = List.of("relay", "webtty-engine", "pairing");

  @Test
  @Order(9)
  void theCliBindsItsSessionsToItsDeviceAndRevokingItEndsExactlyThatDevicesAccessAtTheServices()
      throws Exception {
    Path x = trustedSecond("x-bound");
    Path y = trustedSecond("y-bound");
    syncDaemon();
    UUID xId = new DeviceStore(x, wid).require().id();
    UUID yId = new DeviceStore(y, wid).require().id();
    Api ax = api(x);
    Api ay = api(y);
    int version = new WorkspaceProtection(ax, wid).trusted().keysetVersion();
    // every session the CLI asks for is bound to its trusted device and that credential's version
    Map<String, String> xTokens = new HashMap<>();
    for (String audience : AUDIENCES) {
      xTokens.put(audience, ax.session(wid, audience));
      assertThat(claims(xTokens.get(audience)).getString("did"))
          .as("did of X's " + audience + " session")
          .isEqualTo(xId.toString());
      assertThat(claims(xTokens.get(audience)).getInteger("ksv"))
          .as("ksv of X's " + audience + " session")
          .isEqualTo(version);
      assertThat(claims(ay.session(wid, audience)).getString("did"))
          .as("did of Y's " + audience + " session")
          .isEqualTo(yId.toString());
    }
    URI relayWs = ChannelProtocol.relayWebSocketUrl(ax.serviceUrl("relay"));
    URI engine = URI.create(ax.serviceUrl("webtty-engine"));
    // X holds a relay connection and an engine connection with its CLI's sessions, and runs a
    // channel and a terminal the way `umbra run` and `umbra tty` do; so does Y
    Socket xRelay = socket(relayWs, relayWs.getPath(), xTokens.get("relay"));
    Socket xEngine = socket(engine, WebTtyWire.CLIENT_PATH, xTokens.get("webtty-engine"));
    assertThat(pairingStatus(ax, xTokens.get("pairing"))).isEqualTo(200);
    LiveChannel xRun = liveChannel(x);
    LiveChannel yRun = liveChannel(y);
    LiveTerminal yTty = liveTerminal(y);
    try {
      yRun.send("y-ping-before\n");
      awaitContains(yRun.output(), "y-ping-before", "Y's channel before the revocation");

      ok(
          admin,
          "devices",
          "revoke",
          xId.toString(),
          "-w",
          "dev"); // and, by default, the keyset rotates

      // the services end X's connections and refuse X's sessions minted before the revocation
      assertThat(xRelay.closed().get(15, TimeUnit.SECONDS))
          .as("X's relay connection")
          .isEqualTo((short) 4003);
      assertThat(xEngine.closed().get(15, TimeUnit.SECONDS))
          .as("X's engine connection")
          .isNotNull();
      assertThat(xRun.ended().get(15, TimeUnit.SECONDS)).isEqualTo(RelayClient.SESSION_REFUSED);
      assertThat(upgradeStatus(relayWs, relayWs.getPath(), xTokens.get("relay")))
          .as("X's relay upgrade")
          .isEqualTo(403);
      assertThat(upgradeStatus(engine, WebTtyWire.CLIENT_PATH, xTokens.get("webtty-engine")))
          .as("X's engine upgrade")
          .isEqualTo(401);
      assertThat(pairingStatus(ax, xTokens.get("pairing")))
          .as("X's pairing request")
          .isEqualTo(401);
      // and X's CLI gets no new session, bound or unbound: it says why, with exit status 1
      assertThatThrownBy(() -> ax.session(wid, "relay"))
          .isInstanceOf(CliException.class)
          .hasMessageContaining("was revoked");
      for (String[] command :
          List.of(
              new String[] {"recordings", "list"},
              new String[] {"pair", "list"},
              new String[] {"run", "local", "--no-stdin", "--", "echo", "x-after"},
              new String[] {"tty", "local", "--command", "echo x-after"})) {
        UmbraRun r = umbra(x, command);
        assertThat(r.code())
            .as(String.join(" ", command) + ": " + r.out() + r.err())
            .isEqualTo(UmbraCli.EXIT_FAILURE);
        assertThat(r.err())
            .as(String.join(" ", command))
            .contains("device " + xId + " was revoked")
            .contains("umbra device trust");
        assertThat(r.out()).doesNotContain("x-after");
      }

      // Y continues: its live terminal and channel were kept through the revocation and the
      // rotation
      yTty.client().send("echo y-after-$((3+4))\n".getBytes(StandardCharsets.UTF_8));
      awaitContains(yTty.output(), "y-after-7", "Y's terminal after the revocation and rotation");
      yRun.send("y-ping-after\n");
      awaitContains(yRun.output(), "y-ping-after", "Y's channel after the revocation and rotation");
      assertThat(yTty.ended()).as("Y's terminal").isNotDone();
      assertThat(yRun.ended()).as("Y's channel").isNotDone();
      // and its new sessions carry its new credential's version
      for (String audience : AUDIENCES) {
        JsonObject c = claims(api(y).session(wid, audience));
        assertThat(c.getString("did")).isEqualTo(yId.toString());
        assertThat(c.getInteger("ksv")).isEqualTo(version + 1);
      }
      assertThat(ok(y, "recordings", "list").code()).isZero();
      assertThat(ok(y, "pair", "list").code()).isZero();
      // the daemon follows the rotation within seconds (relay hint)
      UmbraRun run =
          Eventually.until(
              "the daemon accepts y after the rotation",
              Duration.ofSeconds(15),
              () -> umbra(y, "run", "local", "--no-stdin", "--", "echo", "y-run-after"),
              r -> r.code() == 0);
      assertThat(run.code()).as(run.out() + run.err()).isZero();
      assertThat(run.out()).contains("y-run-after");
    } finally {
      yTty.client().terminate();
      for (LiveChannel c : List.of(xRun, yRun)) {
        c.client().close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      xRelay.socket().close();
      xEngine.socket().close();
    }
  }

  @Test
  @Order(10)
  void aPendingDeviceGetsNoSessionUntilItIsApprovedWhileACliWithoutDeviceKeysStaysUnbound()
      throws Exception {
    Path home = tmp.resolve("pending-cli");
    Files.createDirectories(
        home.resolve("cli"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.copy(admin.resolve("cli/credentials.json"), home.resolve("cli/credentials.json"));
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
    // no device keys at all (a script's CLI): unbound sessions, as without Workspace Protection
    assertThat(claims(api(home).session(wid, "pairing")).containsKey("did")).isFalse();
    UmbraRun req =
        ok(home, "device", "trust", "-w", "dev", "--wait", "0", "--json", "--name", "pending-cli");
    String id = req.json().getString("id");
    String code = req.json().getString("verification_code");
    // pending: every command that needs a session says so and what to do; none falls back to an
    // unbound one
    for (String[] command :
        List.of(
            new String[] {"recordings", "list"},
            new String[] {"pair", "list"},
            new String[] {"run", "local", "--no-stdin", "--", "true"})) {
      UmbraRun r = umbra(home, command);
      assertThat(r.code())
          .as(String.join(" ", command) + ": " + r.out() + r.err())
          .isEqualTo(UmbraCli.EXIT_FAILURE);
      assertThat(r.err())
          .contains("device " + id + " is not yet approved")
          .contains("umbra devices approve " + id + " --code " + code);
    }
    assertThatThrownBy(() -> api(home).session(wid, "relay"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("not yet approved");
    // the control plane's own commands (the API token, no session) keep working
    ok(home, "machines", "list");
    ok(admin, "devices", "approve", id, "--code", code, "-w", "dev");
    ok(home, "device", "trust", "-w", "dev", "--wait", "5");
    assertThat(claims(api(home).session(wid, "pairing")).getString("did")).isEqualTo(id);
    ok(home, "pair", "list");
  }

  @Test
  @Order(11)
  void aRunRefusedBeforeItsChannelOpensReachesNoMachineThoughItsRelayConnectionWasMadeMeanwhile() {
    // `umbra run` connects to the relay while it looks the machine up (docs/cli.md, "Start-up"):
    // a lookup that fails still ends the command with the lookup's answer, and no channel is opened
    var stats = relay.channels().get(0).stats();
    long opened = stats.opened.get();
    long refused = stats.failedHandshakes.get();
    UmbraRun unknown = umbra(admin, "run", "no-such-machine", "--no-stdin", "--", "true");
    assertThat(unknown.code()).as(unknown.out() + unknown.err()).isEqualTo(UmbraCli.EXIT_FAILURE);
    assertThat(unknown.err()).contains("no machine 'no-such-machine' in this workspace");
    assertThat(stats.opened.get()).isEqualTo(opened);
    assertThat(stats.failedHandshakes.get()).isEqualTo(refused);
    // and the next command, the whole way, still works and returns the status of the command
    UmbraRun ran = umbra(admin, "run", "local", "--no-stdin", "--", "sh", "-c", "exit 3");
    assertThat(ran.code()).as(ran.out() + ran.err()).isEqualTo(3);
    assertThat(stats.opened.get()).isEqualTo(opened + 1);
  }
}
