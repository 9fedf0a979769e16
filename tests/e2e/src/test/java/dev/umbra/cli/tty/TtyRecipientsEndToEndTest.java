package dev.umbra.cli.tty;

import static dev.umbra.cli.CliHarness.approve;
import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.tty.ServerTrust;
import dev.umbra.client.tty.TtyClient;
import dev.umbra.client.tty.TtyScreen;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.daemon.tty.TtyServer;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.webtty.WebTtyService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Recipients the workspace manages (docs/webtty.md, "Recipients"): `umbra tty <machine>` grants the
 * output key to the trusted devices of the members the machine's join policy allows — found in the
 * workspace's signed trust material, not passed around as hex — and the daemon refuses any
 * recipient its own pinned trust does not vouch for, so a hostile control plane cannot add one.
 * Real control plane, engine and daemon on PostgreSQL and Redis; two members with trusted devices.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TtyRecipientsEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-tty-recipients-test-0123456789";
  CliHarness h;
  ProtectedTtyMachine local;
  Vertx vertx;
  Path tmp;
  Path admin;
  Path machine;
  Path bob;
  String cpUrl;
  UUID wid;
  String serverId;
  BindingStore store;
  Binding binding;
  TtyDaemon daemon;
  WebTtyService engine;

  @BeforeAll
  void start() throws Exception {
    h =
        CliHarness.start(
            "tty-recipients", BOOTSTRAP, ServiceName.PAIRING, ServiceName.WEBTTY_ENGINE);
    vertx = h.vertx;
    tmp = h.tmp;
    cpUrl = h.cpUrl;
    engine = h.service(ServiceName.WEBTTY_ENGINE, WebTtyService.class);
    local = ProtectedTtyMachine.start(h);
    admin = local.admin;
    machine = local.machine;
    store = local.store;
    binding = local.binding;
    wid = local.wid;
    serverId = local.serverId;
    daemon = local.daemon;
    // bob: another member (role member), with a trusted device of his own
    bob = member("bob");
  }

  /**
   * A new member (role member) with a trusted device of their own that published its WebTTY key.
   */
  Path member(String name) {
    return member(name, "member");
  }

  Path member(String name, String role) {
    Path home = tmp.resolve(name);
    String invite =
        new JsonObject(
                ok(admin, "members", "invite", "--role", role, "--json", "--workspace", "dev")
                    .out())
            .getString("token");
    ok(home, "login", cpUrl, "--invite-token", invite, "--name", name);
    JsonObject req =
        new JsonObject(
            ok(
                    home,
                    "device",
                    "trust",
                    "-w",
                    "dev",
                    "--wait",
                    "0",
                    "--json",
                    "--name",
                    name + "-laptop")
                .out());
    approve(admin, req, "dev");
    ok(home, "device", "trust", "-w", "dev", "--wait", "5");
    ok(home, "tty", "key", "--publish", "-w", "dev");
    syncTrust();
    return home;
  }

  @AfterAll
  void stop() throws Exception {
    local.close();
    h.close();
  }

  TtyServer server() {
    return local.server();
  }

  void syncTrust() {
    local.syncTrust();
  }

  ServerPolicy syncDaemon() throws Exception {
    return local.syncDaemon();
  }

  Api api(Path home) {
    return new Api(
        new dev.umbra.cli.CliContext(
            home,
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(new ByteArrayOutputStream()),
            Map.of(),
            new JsonHttp(),
            Clock.systemUTC()));
  }

  /**
   * What `umbra tty` builds for {@code home}: its keys, device credential and (when opening)
   * recipients.
   */
  TtyClient.Options options(Path home, String opensOn, List<X25519PublicKey> shareWith) {
    Api api = api(home);
    TtyKeys keys = TtyKeys.loadOrCreate(home);
    URI url = URI.create(api.serviceUrl("webtty-engine"));
    TtyClient.Options o =
        new TtyClient.Options(
            url,
            wid,
            () -> vertx.executeBlocking(() -> api.session(wid, "webtty-engine")),
            keys.signing(),
            keys.agreement(),
            ServerTrust.pinned(keys.pins()),
            shareWith,
            Clock.systemUTC());
    return SessionRecipients.withDeviceCredential(o, api, wid, keys, opensOn);
  }

  /** Collects a client's decrypted output and how it ended. */
  static <T> T get(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** The refusal of a future that must fail. */
  static String refusal(io.vertx.core.Future<?> f) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause().getMessage();
    }
    throw new AssertionError("expected a refusal");
  }

  X25519PublicKey bobKey() {
    return TtyKeys.loadOrCreate(bob).agreement().publicKey();
  }

  @Test
  @Order(1)
  void aMembersTrustedDeviceJoinsASessionOpenedWithoutShareWithAndSeesItsOutput() throws Exception {
    syncDaemon(); // no policy set: the built-in default, join members
    TtyClient.Options opener = options(admin, serverId, List.of());
    assertThat(opener.extraRecipients())
        .as("bob's trusted device, from the signed trust material")
        .containsExactly(bobKey());
    TtyScreen adminScreen = new TtyScreen();
    TtyClient a =
        get(
            TtyClient.open(
                vertx, opener, ClientTls.system(), serverId, 80, 24, "xterm", adminScreen));
    try {
      TtyScreen bobScreen = new TtyScreen();
      TtyClient b =
          get(
              TtyClient.join(
                  vertx,
                  options(bob, null, List.of()),
                  ClientTls.system(),
                  a.sessionId(),
                  false,
                  bobScreen));
      // bob finds it with `umbra tty sessions`, marked as granted to his device
      Futures.await(engine.recordingWriter().drained(), Duration.ofSeconds(10));
      io.vertx.core.json.JsonArray listed =
          new JsonObject(ok(bob, "tty", "sessions", "-w", "dev", "--json").out())
              .getJsonArray("sessions");
      assertThat(listed).hasSize(1);
      assertThat(listed.getJsonObject(0).getString("session_id")).isEqualTo(a.sessionId());
      assertThat(listed.getJsonObject(0).getString("machine")).isEqualTo("local");
      assertThat(listed.getJsonObject(0).getString("grant")).isEqualTo("yes");
      assertThat(ok(bob, "tty", "sessions", "-w", "dev").out())
          .contains(a.sessionId())
          .contains("local");
      a.send("echo shared-$((6*7))\n".getBytes(StandardCharsets.UTF_8));
      adminScreen.await("shared-42");
      bobScreen.await("shared-42");
      b.terminate();
    } finally {
      a.terminate();
    }
  }

  @Test
  @Order(2)
  void aMemberThePolicyExcludesIsNotARecipientAndIsRefused() throws Exception {
    ok(
        admin,
        "machines",
        "policy",
        "local",
        "--recording",
        "on",
        "--join",
        "admins",
        "--record-stdin",
        "on");
    syncDaemon();
    TtyClient.Options opener = options(admin, serverId, List.of());
    assertThat(opener.extraRecipients())
        .as("join admins: bob (a member) gets no output key")
        .doesNotContain(bobKey());
    TtyClient a =
        get(
            TtyClient.open(
                vertx, opener, ClientTls.system(), serverId, 80, 24, "xterm", new TtyScreen()));
    try {
      TtyScreen bobScreen = new TtyScreen();
      assertThat(
              refusal(
                  TtyClient.join(
                      vertx,
                      options(bob, null, List.of()),
                      ClientTls.system(),
                      a.sessionId(),
                      false,
                      bobScreen)))
          .contains("policy");
      assertThat(bobScreen.text()).isEmpty();
    } finally {
      a.terminate();
    }
    // back to members for the tests that follow
    ok(admin, "machines", "policy", "local", "--join", "members");
    syncDaemon();
  }

  @Test
  @Order(3)
  void theDaemonRefusesARecipientItsPinnedTrustDoesNotVouchFor() throws Exception {
    syncDaemon();
    TtyClient.Options genuine = options(admin, serverId, List.of());
    // a raw key (what a hostile control plane would slip into the list): no credential vouches for
    // it
    X25519PublicKey stranger = X25519KeyPair.generate().publicKey();
    List<X25519PublicKey> withStranger = new ArrayList<>(genuine.extraRecipients());
    withStranger.add(stranger);
    TtyClient.Options raw =
        new TtyClient.Options(
            genuine.engineUrl(),
            wid,
            genuine.tokens(),
            genuine.signingKey(),
            genuine.agreementKey(),
            genuine.trust(),
            withStranger,
            Clock.systemUTC(),
            genuine.deviceCredential(),
            genuine.recipientDevices());
    assertThat(
            refusal(
                TtyClient.open(
                    vertx, raw, ClientTls.system(), serverId, 80, 24, "xterm", new TtyScreen())))
        .contains("proof_refused_unvouched_recipient");

    // bob's genuine credential, but a WebTTY key binding bob's device never signed (the control
    // plane's substitute)
    Handshake.RecipientDevice bobs = genuine.recipientDevices().get(0);
    X25519KeyPair substitute = X25519KeyPair.generate();
    dev.umbra.client.trust.TrustModel.DeviceWebTtyKey claimed =
        dev.umbra.client.trust.TrustModel.DeviceWebTtyKey.of(bobs.webttyKey());
    Signed forged =
        Signed.sign(
            new dev.umbra.client.trust.TrustModel.DeviceWebTtyKey(
                    wid, claimed.deviceId(), substitute.publicKey(), claimed.issuedAt())
                .fields(),
            dev.umbra.crypto.keys.Ed25519KeyPair.generate().privateKey());
    TtyClient.Options swapped =
        new TtyClient.Options(
            genuine.engineUrl(),
            wid,
            genuine.tokens(),
            genuine.signingKey(),
            genuine.agreementKey(),
            genuine.trust(),
            List.of(substitute.publicKey()),
            Clock.systemUTC(),
            genuine.deviceCredential(),
            List.of(new Handshake.RecipientDevice(bobs.credential(), forged)));
    assertThat(
            refusal(
                TtyClient.open(
                    vertx,
                    swapped,
                    ClientTls.system(),
                    serverId,
                    80,
                    24,
                    "xterm",
                    new TtyScreen())))
        .contains("proof_refused_unvouched_recipient");

    // the CLI refuses a raw --share-with key under Workspace Protection, and accepts a trusted
    // device's
    UmbraRun refused =
        umbra(admin, "tty", "local", "--share-with", stranger.toHex(), "--command", "true");
    assertThat(refused.code()).isNotZero();
    assertThat(refused.err()).contains("raw keys cannot be recipients");
    ok(admin, "tty", "local", "--share-with", bobKey().toHex(), "--command", "true");
  }

  @Test
  @Order(4)
  void theOpenerSharesItsLiveSessionWithAMembersTrustedDeviceButNeverWithAKeyThePinDoesNotVouchFor()
      throws Exception {
    syncDaemon();
    TtyClient.Options genuine = options(admin, serverId, List.of());
    Handshake.RecipientDevice bobs = genuine.recipientDevices().get(0);
    // opened with the opener alone as recipient (as if bob's device had been trusted after the
    // open)
    TtyClient.Options alone =
        new TtyClient.Options(
            genuine.engineUrl(),
            wid,
            genuine.tokens(),
            genuine.signingKey(),
            genuine.agreementKey(),
            genuine.trust(),
            List.of(),
            Clock.systemUTC(),
            genuine.deviceCredential(),
            List.of());
    TtyScreen adminScreen = new TtyScreen();
    TtyClient a =
        get(
            TtyClient.open(
                vertx, alone, ClientTls.system(), serverId, 80, 24, "xterm", adminScreen));
    try {
      a.send("echo early-$((5*5))\n".getBytes(StandardCharsets.UTF_8));
      adminScreen.await("early-25");
      assertThat(
              refusal(
                  TtyClient.join(
                      vertx,
                      options(bob, null, List.of()),
                      ClientTls.system(),
                      a.sessionId(),
                      false,
                      new TtyScreen())))
          .contains("no_grant");

      // a key no credential under the daemon's pin vouches for: refused by the daemon, the session
      // goes on
      a.share(List.of(X25519KeyPair.generate().publicKey()), List.of());
      assertThat(
              adminScreen
                  .awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
                  .getReason())
          .isEqualTo("share_refused_unvouched_recipient");
      // bob's genuine credential with a binding his device never signed: refused too
      X25519KeyPair substitute = X25519KeyPair.generate();
      var claimed = dev.umbra.client.trust.TrustModel.DeviceWebTtyKey.of(bobs.webttyKey());
      Signed forged =
          Signed.sign(
              new dev.umbra.client.trust.TrustModel.DeviceWebTtyKey(
                      wid, claimed.deviceId(), substitute.publicKey(), claimed.issuedAt())
                  .fields(),
              dev.umbra.crypto.keys.Ed25519KeyPair.generate().privateKey());
      a.share(
          List.of(substitute.publicKey()),
          List.of(new Handshake.RecipientDevice(bobs.credential(), forged)));
      assertThat(
              adminScreen
                  .awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
                  .getReason())
          .isEqualTo("share_refused_unvouched_recipient");

      // `umbra tty share <session> --with <bob's device>` resolves it from the signed trust
      // material
      SessionRecipients.ShareTargets t =
          SessionRecipients.shareTargets(
              api(admin),
              wid,
              List.of(claimed.deviceId().toString()),
              genuine.agreementKey().publicKey());
      assertThat(t.keys()).containsExactly(bobKey());
      a.share(t.keys(), t.vouches());
      adminScreen.awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);
      TtyScreen bobScreen = new TtyScreen();
      TtyClient b =
          get(
              TtyClient.join(
                  vertx,
                  options(bob, null, List.of()),
                  ClientTls.system(),
                  a.sessionId(),
                  false,
                  bobScreen));
      a.send("echo late-$((6*6))\n".getBytes(StandardCharsets.UTF_8));
      adminScreen.await("late-36");
      bobScreen.await("late-36");
      assertThat(bobScreen.text()).doesNotContain("early-25");
      b.terminate();
    } finally {
      a.terminate();
    }
  }

  /** A third member, created after the tests that count recipients. */
  Path carol() {
    Path carol = tmp.resolve("carol");
    return Files.exists(carol) ? carol : member("carol");
  }

  static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
      throws Exception {
    Eventually.await(what, Duration.ofSeconds(15), condition::getAsBoolean);
  }

  /**
   * The opener's options with bob's trusted device as the only recipient besides the server and
   * itself.
   */
  TtyClient.Options withBobOnly(TtyClient.Options genuine) {
    Handshake.RecipientDevice bobs =
        genuine.recipientDevices().get(genuine.extraRecipients().indexOf(bobKey()));
    return new TtyClient.Options(
        genuine.engineUrl(),
        wid,
        genuine.tokens(),
        genuine.signingKey(),
        genuine.agreementKey(),
        genuine.trust(),
        List.of(bobKey()),
        Clock.systemUTC(),
        genuine.deviceCredential(),
        List.of(bobs));
  }

  /**
   * What `umbra tty sessions --json` run by {@code home} lists for {@code session} (null: not
   * listed).
   */
  JsonObject listed(Path home, String session) throws Exception {
    Futures.await(engine.recordingWriter().drained(), Duration.ofSeconds(10));
    for (Object o :
        new JsonObject(ok(home, "tty", "sessions", "-w", "dev", "--json").out())
            .getJsonArray("sessions")) {
      if (((JsonObject) o).getString("session_id").equals(session)) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  @Test
  @Order(5)
  void
      theControllerAfterAHandoverSharesWithATeammatesTrustedDeviceWhoThenJoinsButAViewerCannotShare()
          throws Exception {
    Path carol = carol();
    syncDaemon();
    TtyClient.Options genuine = options(admin, serverId, List.of());
    X25519PublicKey carolKey = TtyKeys.loadOrCreate(carol).agreement().publicKey();
    assertThat(genuine.extraRecipients()).contains(bobKey(), carolKey);
    // opened with bob as the only other recipient (as if carol's device had been trusted after the
    // open)
    TtyClient.Options withBob = withBobOnly(genuine);
    TtyScreen adminScreen = new TtyScreen();
    TtyClient a =
        get(
            TtyClient.open(
                vertx, withBob, ClientTls.system(), serverId, 80, 24, "xterm", adminScreen));
    try {
      TtyScreen bobScreen = new TtyScreen();
      TtyClient b =
          get(
              TtyClient.join(
                  vertx,
                  options(bob, null, List.of()),
                  ClientTls.system(),
                  a.sessionId(),
                  false,
                  bobScreen));
      assertThat(listed(carol, a.sessionId())).as("not granted to carol: not in her list").isNull();
      assertThat(
              refusal(
                  TtyClient.join(
                      vertx,
                      options(carol, null, List.of()),
                      ClientTls.system(),
                      a.sessionId(),
                      false,
                      new TtyScreen())))
          .contains("no_grant");
      SessionRecipients.ShareTargets toCarol =
          SessionRecipients.shareTargets(api(bob), wid, List.of("carol"), bobKey());
      assertThat(toCarol.keys()).containsExactly(carolKey);
      assertThat(toCarol.self())
          .as("bob's own credential and binding, to name himself as the sharer")
          .isNotNull();

      // bob is a viewer: his share is refused (the engine), and nothing changes
      b.share(toCarol.keys(), toCarol.vouches(), toCarol.self());
      assertThat(
              bobScreen
                  .awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
                  .getReason())
          .isEqualTo("share_refused_not_controller");
      // a hostile engine passing bob's request on (here: through the opener's connection, which the
      // engine lets share) gets the same answer from the daemon: bob does not control
      long now = System.currentTimeMillis();
      a.shareSigned(
          Handshake.sign(
              new Handshake.ShareRequest(
                  wid.toString(),
                  serverId,
                  a.sessionId(),
                  toCarol.keys(),
                  toCarol.vouches(),
                  now,
                  now + 30_000,
                  toCarol.self()),
              options(bob, null, List.of()).signingKey()));
      assertThat(
              adminScreen
                  .awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
                  .getReason())
          .isEqualTo("share_refused_not_controller");

      // the opener hands control to bob; bob (now the controller) shares with carol's trusted
      // device
      b.requestControl();
      a.giveControl(
          adminScreen
              .awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST)
              .getParticipantId());
      awaitTrue(b::hasControl, "bob holds the input key the daemon issued him");
      // a key no credential under the daemon's pin vouches for: refused, even from the controller
      b.share(List.of(X25519KeyPair.generate().publicKey()), List.of(), toCarol.self());
      assertThat(
              bobScreen
                  .awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
                  .getReason())
          .isEqualTo("share_refused_unvouched_recipient");
      b.share(toCarol.keys(), toCarol.vouches(), toCarol.self());
      bobScreen.awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);
      adminScreen.awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);

      // `umbra tty sessions` reads the current output key's recipients: carol now sees it, joinable
      JsonObject seen = listed(carol, a.sessionId());
      assertThat(seen).as("granted to carol by the share").isNotNull();
      assertThat(seen.getString("grant")).isEqualTo("yes");
      assertThat(listed(bob, a.sessionId()).getString("grant")).isEqualTo("yes");

      TtyScreen carolScreen = new TtyScreen();
      TtyClient c =
          get(
              TtyClient.join(
                  vertx,
                  options(carol, null, List.of()),
                  ClientTls.system(),
                  a.sessionId(),
                  false,
                  carolScreen));
      b.send("echo ctl-$((7*8))\n".getBytes(StandardCharsets.UTF_8));
      carolScreen.await("ctl-56");
      adminScreen.await("ctl-56");
      c.terminate();
      b.terminate();
    } finally {
      a.terminate();
    }
  }

  @Test
  @Order(6)
  void aReattachedOpenerSharesItsSessionWithoutKnowingTheOtherRecipientsKeys() throws Exception {
    Path carol = carol();
    syncDaemon();
    TtyClient.Options genuine = options(admin, serverId, List.of());
    TtyClient.Options withBob = withBobOnly(genuine);
    TtyClient first =
        get(
            TtyClient.open(
                vertx, withBob, ClientTls.system(), serverId, 80, 24, "xterm", new TtyScreen()));
    first.detach();
    TtyScreen adminScreen = new TtyScreen();
    TtyClient a =
        get(
            TtyClient.join(
                vertx,
                options(admin, null, List.of()),
                ClientTls.system(),
                first.sessionId(),
                true,
                adminScreen));
    try {
      SessionRecipients.ShareTargets toCarol =
          SessionRecipients.shareTargets(
              api(admin), wid, List.of("carol"), genuine.agreementKey().publicKey());
      a.share(toCarol.keys(), toCarol.vouches(), toCarol.self());
      adminScreen.awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY);
      TtyScreen carolScreen = new TtyScreen();
      TtyClient c =
          get(
              TtyClient.join(
                  vertx,
                  options(carol, null, List.of()),
                  ClientTls.system(),
                  a.sessionId(),
                  false,
                  carolScreen));
      awaitTrue(a::hasControl, "the re-attached opener has control back (nobody had it)");
      a.send("echo back-$((8*8))\n".getBytes(StandardCharsets.UTF_8));
      carolScreen.await("back-64");
      c.terminate();
    } finally {
      a.terminate();
    }
  }

  @Test
  @Order(7)
  void aReviewerThePolicyNamesReadsStdinInTheExportAndANonReviewerRecipientSeesItAsNotReadable()
      throws Exception {
    carol();
    // dave, an admin (admins may export any recording of the workspace), is named reviewer by the
    // signed policy
    Path dave = Files.exists(tmp.resolve("dave")) ? tmp.resolve("dave") : member("dave", "admin");
    UmbraRun set =
        ok(
            admin,
            "machines",
            "policy",
            "local",
            "--recording",
            "on",
            "--join",
            "members",
            "--record-stdin",
            "on",
            "--reviewer",
            "dave");
    assertThat(set.out()).contains("reviewers");
    syncDaemon();
    assertThat(ok(admin, "machines", "policy", "local").out())
        .contains("(verified)")
        .contains("reviewers");

    // bob (a member) opens; what he types without echo never shows in the output
    TtyClient.Options opener = options(bob, serverId, List.of());
    assertThat(opener.extraRecipients())
        .contains(TtyKeys.loadOrCreate(dave).agreement().publicKey());
    TtyScreen bobScreen = new TtyScreen();
    TtyClient b =
        get(
            TtyClient.open(
                vertx, opener, ClientTls.system(), serverId, 80, 24, "xterm", bobScreen));
    String id = b.sessionId();
    // no waiting for the daemon's epoch-0 grant to the reviewer: it goes out before READY on the
    // daemon's socket, so the engine records it ahead of the first keystrokes, typed at once
    b.send("stty -echo; echo quiet-$((1+1))\n".getBytes(StandardCharsets.UTF_8));
    bobScreen.await("quiet-2");
    b.send("echo hidden-$((2*21))\n".getBytes(StandardCharsets.UTF_8));
    bobScreen.await("hidden-42");
    // a handover: carol's fresh input key is wrapped to the reviewer too
    TtyScreen carolScreen = new TtyScreen();
    TtyClient c =
        get(
            TtyClient.join(
                vertx,
                options(carol(), null, List.of()),
                ClientTls.system(),
                id,
                false,
                carolScreen));
    c.requestControl();
    b.giveControl(
        bobScreen
            .awaitEvent(dev.umbra.proto.webtty.WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST)
            .getParticipantId());
    awaitTrue(c::hasControl, "carol holds the input key the daemon issued her");
    c.send("echo turn-$((3*11))\n".getBytes(StandardCharsets.UTF_8));
    carolScreen.await("turn-33");
    c.detach();
    b.terminate();
    Futures.await(engine.recordingWriter().drained(), Duration.ofSeconds(10));
    assertThat(server().stats().snapshot()).containsEntry("reviewer_input_keys_issued", 1L);

    // the reviewer reads both turns' stdin
    String reviewed = ok(dave, "recordings", "export", id, "--include-stdin", "-w", "dev").out();
    assertThat(reviewed)
        .contains("echo hidden-$((2*21))")
        .contains("echo turn-$((3*11))")
        .doesNotContain("not readable");
    // the admin is a recipient (join members) but no reviewer: the output, never the stdin (marked,
    // not garbage)
    String notReviewed =
        ok(admin, "recordings", "export", id, "--include-stdin", "-w", "dev").out();
    assertThat(reviewed)
        .doesNotContain("# echo hidden")
        .as("typed without echo: never in the output");
    assertThat(notReviewed)
        .contains("hidden-42")
        .contains("turn-33")
        .contains("is not readable with this device's keys")
        .doesNotContain("echo hidden-$((2*21))")
        .doesNotContain("echo turn-$((3*11))");

    // back to no reviewers for any test that follows
    ok(admin, "machines", "policy", "local", "--no-reviewers");
    syncDaemon();
  }
}
