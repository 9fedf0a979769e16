package dev.umbra.cli.tty;

import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.daemon.tty.AuthorizedKeys;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
  CliHarness h;
  Vertx vertx;
  Path admin;
  Path machine;
  TtyDaemon daemon;

  @BeforeAll
  void start() throws Exception {
    h = CliHarness.start("tty", BOOTSTRAP, ServiceName.PAIRING, ServiceName.WEBTTY_ENGINE);
    vertx = h.vertx;
    String cpUrl = h.cpUrl;
    admin = Files.createTempDirectory("umbra-tty-admin").resolve("home");
    machine = Files.createTempDirectory("umbra-tty-machine").resolve("home");
    assertThat(
            umbra(admin, "login", cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev")
                .code())
        .isZero();
    UmbraRun code = umbra(admin, "pair", "create", "--json", "--workspace", "dev");
    String pairing = new JsonObject(code.out()).getString("code");
    UmbraRun pair = umbra(machine, "daemon", "pair", pairing, "--url", cpUrl, "--name", "local");
    assertThat(pair.code()).as(pair.err()).isZero();

    // the daemon pins the CLI's signing key (the stand-in for device trust)
    UmbraRun key = umbra(admin, "tty", "key");
    String signing =
        key.out()
            .lines()
            .filter(l -> l.startsWith("signing"))
            .findFirst()
            .orElseThrow()
            .replaceAll(".*: ", "");
    BindingStore store = new BindingStore(machine);
    new AuthorizedKeys(store.root().resolve(store.list().get(0).machineId().toString()))
        .add(Ed25519PublicKey.fromHex(signing), "admin cli");
    daemon = CliHarness.startTtyDaemon(machine, store);
  }

  @AfterAll
  void stop() throws Exception {
    daemon.close();
    h.close();
  }

  @Test
  void ttyLocalRunsACommandEndToEndAndExitsWithItsStatusThenTheRecordingExportsLikeScrollback()
      throws Exception {
    UmbraRun tty =
        umbra(
            admin,
            "tty",
            "local",
            "--e2e",
            "--command",
            "echo sum-$((40+2)); tput smcup; echo hidden-in-alt-$((3*3)); tput rmcup; echo after-alt; (exit 5)");
    assertThat(tty.code()).as(tty.out() + tty.err()).isEqualTo(5);
    assertThat(tty.out()).contains("sum-42").contains("hidden-in-alt-9");
    assertThat(tty.err()).contains("end-to-end encrypted");

    // the engine stores the recording's end after it relayed EXIT to the client, so the list may
    // show the session still without its exit status for a moment
    JsonArray sessions =
        Eventually.until(
            "the recording lists the session with its exit status",
            Duration.ofSeconds(10),
            () -> {
              UmbraRun list = umbra(admin, "recordings", "list", "--json");
              assertThat(list.code()).as(list.err()).isZero();
              return new JsonObject(list.out()).getJsonArray("sessions");
            },
            l -> !l.isEmpty() && l.getJsonObject(0).getInteger("exit_status") != null);
    String sid = sessions.getJsonObject(0).getString("session_id");
    assertThat(sessions.getJsonObject(0).getInteger("exit_status")).isEqualTo(5);

    UmbraRun export = umbra(admin, "recordings", "export", sid);
    assertThat(export.code()).as(export.err()).isZero();
    assertThat(export.out())
        .contains("sum-42")
        .contains("after-alt")
        .doesNotContain("hidden-in-alt-9")
        .doesNotContain("\u001b[");
    UmbraRun withInput = umbra(admin, "recordings", "export", sid, "--include-stdin");
    assertThat(withInput.out()).contains("--- input ---").contains("echo sum-$((40+2))");
  }

  @Test
  void anUnknownMachineOrMissingModeIsOneClearError() {
    UmbraRun r = umbra(admin, "tty", "nope");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("no machine 'nope'");
    assertThat(umbra(admin, "tty").code()).isEqualTo(2);
  }
}
