package dev.umbra.web;

import static dev.umbra.web.WebTerminalBrowserTest.awaitScreen;
import static dev.umbra.web.WebTerminalBrowserTest.awaitState;
import static dev.umbra.web.WebTerminalBrowserTest.screen;
import static dev.umbra.web.WebTerminalBrowserTest.tickDevice;
import static dev.umbra.web.WebTerminalBrowserTest.typeLine;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.CanaryScan;
import dev.umbra.webtty.WebTtyService;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Engine failover in the browser app (docs/webtty.md "Engine failover", docs/web.md "Terminal") in
 * real Chromium, on {@code TtyEngineFailoverTest}'s fixture: the webtty-engine runs as instance A
 * in its own JVM and instance B in this one behind a TCP balancer that the pages, the daemon and
 * the discovery document all use. The opener's page and a viewer's page hold a live session homed
 * on A; A is killed with SIGKILL; both pages re-join through the balancer, verify the daemon-signed
 * resume document against the pinned server key, and go on with the same session, roles, keys and
 * counters: what the opener typed while A was gone runs once and shows on both screens, with the
 * notice. The resume conformance vectors, the page's refusal rules and its EngineFailover on a
 * stand-in session (what is sent again, held, refused) run in the page.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebTerminalFailoverBrowserTest {
  BrowserPlatform platform;
  CliHarness h;
  TerminalMachine machine;
  Traces traces;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    platform =
        BrowserPlatform.startWithEngineFailover(
            "webfail", ServiceName.PAIRING, ServiceName.WEBTTY_ENGINE);
    h = platform.h;
    traces.watch(h);
    machine = TerminalMachine.pair(platform);
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    if (machine != null) {
      machine.close();
    }
    if (platform != null) {
      platform.close();
    }
  }

  @Test
  void killingTheEngineInstanceHoldingThePagesSessionMovesOpenerAndViewerToAnotherWithNothingLost()
      throws Exception {
    String canary = Traces.canary("webfail");
    WebTtyService engineB = h.service(ServiceName.WEBTTY_ENGINE, WebTtyService.class);
    try (Tab t = platform.tab();
        Tab v = platform.tab()) {
      platform.trustedBrowser(t, "failover browser");
      platform.trustedBrowser(v, "failover viewer");
      machine.syncTrust();
      tickDevice(t, v.page.textContent("#device-id"));
      machine.open(t);
      String session = t.page.textContent("#terminal-session");
      typeLine(t, "echo one-$((1+1))");
      awaitScreen(t, "one-2");
      v.page.fill("#terminal-join-id", session);
      v.page.click("#terminal-join");
      awaitState(v, "viewing");
      typeLine(t, "echo two-$((2+2))");
      awaitScreen(v, "two-4");
      // everything is on A: B homes nothing yet
      assertThat(engineB.hub().homedSessions()).isZero();

      long killed = System.nanoTime();
      h.killEngineInstanceA();
      // typed while no engine holds the session: held by the page, sent once it is back
      typeLine(t, "echo " + canary + "-$((40+2))");
      awaitScreen(t, canary + "-42");
      Duration took = Duration.ofNanos(System.nanoTime() - killed);
      awaitScreen(v, canary + "-42");
      var daemon = machine.daemon.servers().get(0).stats();
      System.out.printf(
          "browser engine failover: typing continued %d ms after SIGKILL of the home instance;"
              + " daemon %s%n",
          took.toMillis(), daemon.snapshot());
      assertThat(took).isLessThan(Duration.ofSeconds(10));

      // the notice on both pages; the same session and roles, on B now
      for (Tab p : List.of(t, v)) {
        p.await("#terminal-screen[data-failovers='1']");
        assertThat(p.page.textContent("#terminal-note")).contains("engine failover");
        assertThat(p.page.textContent("#terminal-session")).isEqualTo(session);
        assertThat(screen(p)).doesNotContain("output gap", "refused a repeated");
      }
      awaitState(t, "live");
      awaitState(v, "viewing");
      assertThat(engineB.hub().homedSessions()).isEqualTo(1);
      assertThat(daemon.get("sessions_resumed")).isEqualTo(1);
      assertThat(daemon.get("input_gap")).isZero();
      assertThat(daemon.get("input_refused")).isZero();
      // the command typed during the outage ran once: one echo of its answer after the command line
      assertThat(screen(t).split(canary + "-42", -1)).hasSize(2);

      // the viewer still cannot type; the opener still can, under the same input key
      typeLine(v, "echo ignored-$((1+1))");
      assertThat(v.page.textContent("#terminal-note")).isEqualTo("not_controller");
      typeLine(t, "echo still-$((3*3))");
      awaitScreen(t, "still-9");
      awaitScreen(v, "still-9");
      assertThat(screen(t)).doesNotContain("ignored-2");
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
      assertThat(v.console).noneMatch(m -> m.startsWith("pageerror"));
      t.page.click("#terminal-close");
      t.await("#terminal-state[data-state=closed], #terminal-state[data-state=exited]");
    }
    // the blindness canary, on the failover path too: the killed instance's log included
    List<String> found = new ArrayList<>(traces.anywhere(canary));
    found.addAll(
        CanaryScan.lines(
            "engine A log", Files.readAllLines(h.engineInstanceALog()), CanaryScan.forms(canary)));
    assertThat(found).isEmpty();
  }

  @Test
  void theResumeVectorsTheRefusalRulesAndTheResendRuleHoldInThePage() throws Exception {
    platform.replaysInThePage("webtty-resume-replay.js", 60, "webtty-resume-v1.json");
  }
}
