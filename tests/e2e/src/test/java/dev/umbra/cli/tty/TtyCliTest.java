package dev.umbra.cli.tty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.UmbraCli;
import dev.umbra.controlplane.ControlPlaneService;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.daemon.tty.AuthorizedKeys;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.launcher.Cli;
import dev.umbra.pairing.PairingService;
import dev.umbra.webtty.WebTtyService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * `umbra tty`, `umbra recordings` through the real command against a real control plane, pairing
 * service and webtty-engine (session tokens verified against the control plane's JWKS), with the
 * daemon's WebTTY server started the way `umbra daemon run` starts it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TtyCliTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-tty-test-0123456789";
  Vertx vertx;
  TestPostgres pg;
  Bus bus;
  Path admin;
  Path machine;
  TtyDaemon daemon;

  record Run(int code, String out, String err) {}

  Run umbra(Path home, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = UmbraCli.execute(home, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), Map.of("USER", "alice"),
        Cli.commands(), args); // the tree of bin/umbra: the launcher adds `umbra daemon`
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    pg = TestPostgres.createDatabase();
    String prefix = TestRedis.randomPrefix();
    bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    Map<String, String> env = new HashMap<>();
    int cpPort = freePort();
    env.put("UMBRA_CONTROL_PLANE_PORT", String.valueOf(cpPort));
    env.put("UMBRA_PAIRING_PORT", String.valueOf(freePort()));
    env.put("UMBRA_WEBTTY_ENGINE_PORT", String.valueOf(freePort()));
    env.put("UMBRA_INTERNAL_TOKEN", "internal-tty-credential-0123456789abcdef");
    env.put("UMBRA_BOOTSTRAP_TOKEN", BOOTSTRAP);
    Path serviceHome = Files.createTempDirectory("umbra-tty-services");
    TestServices.deploy(vertx, TestServices.config(ServiceName.CONTROL_PLANE, pg, prefix, serviceHome, env), bus,
        Metrics.newRegistry(), Clock.systemUTC(), ControlPlaneService::new).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    TestServices.deploy(vertx, TestServices.config(ServiceName.PAIRING, pg, prefix, serviceHome, env), bus,
        Metrics.newRegistry(), Clock.systemUTC(), PairingService::new).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    Map<String, String> engineEnv = new HashMap<>(env);
    TestServices.deploy(vertx, TestServices.config(ServiceName.WEBTTY_ENGINE, pg, prefix, serviceHome, engineEnv)
            .withPort(Integer.parseInt(env.get("UMBRA_WEBTTY_ENGINE_PORT"))), bus,
        Metrics.newRegistry(), Clock.systemUTC(), WebTtyService::new).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    String cpUrl = "http://127.0.0.1:" + cpPort;
    admin = Files.createTempDirectory("umbra-tty-admin").resolve("home");
    machine = Files.createTempDirectory("umbra-tty-machine").resolve("home");
    assertThat(umbra(admin, "login", cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev").code()).isZero();
    Run code = umbra(admin, "pair", "create", "--json", "--workspace", "dev");
    String pairing = new JsonObject(code.out()).getString("code");
    Run pair = umbra(machine, "daemon", "pair", pairing, "--url", cpUrl, "--name", "local");
    assertThat(pair.code()).as(pair.err()).isZero();

    // the daemon pins the CLI's signing key (the stand-in for device trust)
    Run key = umbra(admin, "tty", "key");
    String signing = key.out().lines().filter(l -> l.startsWith("signing")).findFirst().orElseThrow().replaceAll(".*: ", "");
    BindingStore store = new BindingStore(machine);
    new AuthorizedKeys(store.root().resolve(store.list().get(0).machineId().toString()))
        .add(Ed25519PublicKey.fromHex(signing), "admin cli");
    DaemonRunner runner = new DaemonRunner(new JsonHttp(), store, Clock.systemUTC(), new PrintStream(new ByteArrayOutputStream()));
    Map<String, String> daemonEnv = new HashMap<>(System.getenv());
    daemonEnv.put("UMBRA_TTY_SHELL", "/bin/sh");
    daemon = TtyDaemon.start(machine, store, new JsonHttp(), runner::session, daemonEnv);
    daemon.servers().get(0).start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @AfterAll
  void stop() throws Exception {
    daemon.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    pg.close();
  }

  @Test
  void ttyLocalRunsACommandEndToEndAndExitsWithItsStatusThenTheRecordingExportsLikeScrollback() throws Exception {
    Run tty = umbra(admin, "tty", "local", "--e2e", "--command",
        "echo sum-$((40+2)); tput smcup; echo hidden-in-alt-$((3*3)); tput rmcup; echo after-alt; (exit 5)");
    assertThat(tty.code()).as(tty.out() + tty.err()).isEqualTo(5);
    assertThat(tty.out()).contains("sum-42").contains("hidden-in-alt-9");
    assertThat(tty.err()).contains("end-to-end encrypted");

    Run list = umbra(admin, "recordings", "list", "--json");
    assertThat(list.code()).as(list.err()).isZero();
    JsonArray sessions = new JsonObject(list.out()).getJsonArray("sessions");
    assertThat(sessions).isNotEmpty();
    String sid = sessions.getJsonObject(0).getString("session_id");
    assertThat(sessions.getJsonObject(0).getInteger("exit_status")).isEqualTo(5);

    Run export = umbra(admin, "recordings", "export", sid);
    assertThat(export.code()).as(export.err()).isZero();
    assertThat(export.out()).contains("sum-42").contains("after-alt")
        .doesNotContain("hidden-in-alt-9").doesNotContain("\u001b[");
    Run withInput = umbra(admin, "recordings", "export", sid, "--include-stdin");
    assertThat(withInput.out()).contains("--- input ---").contains("echo sum-$((40+2))");
  }

  @Test
  void anUnknownMachineOrMissingModeIsOneClearError() {
    Run r = umbra(admin, "tty", "nope");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("no machine 'nope'");
    assertThat(umbra(admin, "tty").code()).isEqualTo(2);
  }
}
