package dev.umbra.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.crypto.tls.CertificatePins;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.launcher.ChildJvm;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new user's first minutes over TLS (docs/deploy.md, "The browser app under `umbra dev --tls`"):
 * `umbra dev --tls` in a child JVM, exactly as {@code bin/umbra dev --tls} runs (mutual TLS between
 * the services on), the browser app in real Chromium signs in, is trusted by the CLI, opens a
 * terminal on the machine `local` and sees the shell's answer to a typed command. Chromium trusts
 * the dev services' key alone ({@code --ignore-certificate-errors-spki-list} with the SPKI hash of
 * {@code UMBRA_HOME/dev/tls/cert.pem}: any other certificate is still refused), since a test cannot
 * import the dev CA into the system's trust. Until 2026-12-06 the terminal stayed "disconnected":
 * every listener asked for a client certificate and Chromium cancelled the WebSocket to the engine.
 */
class WebTerminalOverDevTlsBrowserTest {
  @TempDir Path tmp;

  @Test
  void aNewUserOpensATerminalInTheBrowserAppUnderDevTls() throws Exception {
    Path home = tmp.resolve("home");
    Map<String, Integer> ports = ChildJvm.freeServicePorts();
    try (TestPostgres pg = TestPostgres.createDatabase();
        ChildJvm dev =
            ChildJvm.start(
                "dev.umbra.launcher.Umbra",
                ChildJvm.devEnv(home, pg.url(), ports),
                "dev",
                "--tls")) {
      dev.awaitLine(l -> l.startsWith("ready in "), 120);
      dev.awaitLine(l -> l.contains("reachable through the relay at https://"), 60);
      Map<String, String> cliEnv = new HashMap<>(System.getenv());
      cliEnv.put("UMBRA_TLS_CA_FILE", home.resolve("dev/tls/ca.pem").toString());
      String token = cli(home, cliEnv, "tokens", "create", "web", "--json").getString("token");
      JsonArray machines = new JsonArray(run(home, cliEnv, "machines", "list", "--json"));
      String local = machineId(machines, "local");
      String spki =
          CertificatePins.spkiSha256(CertificatePins.read(home.resolve("dev/tls/cert.pem")).get(0))
              .substring("sha256/".length());

      try (Chromium chromium =
              Chromium.launchOrSkip(List.of("--ignore-certificate-errors-spki-list=" + spki));
          Tab t = new Tab(chromium.browser.newContext())) {
        t.page.navigate("https://127.0.0.1:" + ports.get("CONTROL_PLANE") + "/app/");
        t.page.fill("#token", token);
        t.page.click("#signin-submit");
        t.page.waitForFunction("() => document.body.dataset.state === 'signed-in'");
        t.page.waitForSelector("#device-enrol:not([hidden])");
        t.page.fill("#device-name", "first browser");
        t.page.click("#device-request");
        t.awaitStatus("pending");
        run(
            home,
            cliEnv,
            "devices",
            "approve",
            t.page.textContent("#device-id"),
            "--code",
            t.page.textContent("#device-code"));
        t.awaitStatus("trusted");

        t.page.selectOption("#terminal-machine", local);
        t.page.click("#terminal-open");
        try {
          t.await("#terminal-state[data-state=live]");
        } catch (com.microsoft.playwright.PlaywrightException notLive) {
          throw new AssertionError(
              "the terminal did not go live: '"
                  + t.page.textContent("#terminal-state")
                  + "', console: "
                  + t.console,
              notLive);
        }
        WebTerminalBrowserTest.typeLine(t, "echo over-tls-$((6*7))");
        WebTerminalBrowserTest.awaitScreen(t, "over-tls-42");
        assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
      }
      assertThat(dev.terminate(15)).as(dev.output()).isZero();
    }
  }

  private static String machineId(JsonArray machines, String name) {
    for (Object m : machines) {
      JsonObject o = (JsonObject) m;
      if (name.equals(o.getString("name"))) {
        return o.getString("id");
      }
    }
    throw new AssertionError("no machine '" + name + "' in " + machines.encode());
  }

  private static JsonObject cli(Path home, Map<String, String> env, String... args) {
    return new JsonObject(run(home, env, args));
  }

  private static String run(Path home, Map<String, String> env, String... args) {
    UmbraRun r = UmbraRun.of(home, env, List.of(), args);
    assertThat(r.code()).as(String.join(" ", args) + ": " + r.err()).isZero();
    return r.out();
  }
}
