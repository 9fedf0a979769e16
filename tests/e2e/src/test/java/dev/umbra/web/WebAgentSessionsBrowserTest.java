package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.cli.agent.AgentMachine;
import dev.umbra.cli.agent.AgentSessionEndToEndTest;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Agent sessions in the browser app (docs/web.md "Agent sessions", docs/agents.md) in real Chromium
 * against the real services, relay and daemon with a scripted runtime: the page speaks the relay
 * channel itself — Noise IK from WebCrypto, its device credential in message 1, end to end to the
 * daemon — so the relay routes ciphertext only. A session started in the page is watched by the
 * page and the CLI, who see the same frames; a prompt typed in the page reaches the runtime and an
 * approval given there is answered; the transcript is paged from the daemon; the machine's key,
 * once pinned, cannot be swapped. The runtime is AgentSessionEndToEndTest's script. A canary in the
 * prompt and the runtime's output is in no table, Redis key, bus message or log line. The relay's
 * Noise conformance vectors are replayed in the page.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebAgentSessionsBrowserTest {
  BrowserPlatform platform;
  CliHarness h;
  Traces traces;
  Tab tab;
  DaemonRelay relay;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    platform = BrowserPlatform.start("websess", ServiceName.PAIRING, ServiceName.RELAY);
    h = platform.h;
    traces.watch(h);
    tab = platform.tab();
    platform.trustedBrowser(tab, "web-agent");
    // paired after the browser was trusted: the daemon's pinned trust holds its credential
    relay =
        AgentMachine.pairWithRuntime(
            h, platform.admin, h.tmp.resolve("machine"), AgentSessionEndToEndTest.BOT, true);
    // the CLI's first relay command makes its channel key; two first ones at once race for it
    ok(platform.admin, "agent-session", "list", "local", "--json");
    tab.page.click("#lists-refresh");
    tab.page.waitForFunction(
        "() => document.querySelectorAll('#agent-machine option').length === 1",
        null,
        new Page.WaitForFunctionOptions().setTimeout(Tab.WAIT_MS));
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    if (tab != null) {
      tab.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (platform != null) {
      platform.close();
    }
  }

  @Test
  void theRelayNoiseVectorsReplayInThePageAndTamperingIsRefused() throws Exception {
    platform.replaysInThePage("noise-replay.js", 40, "noise.json");
  }

  @Test
  void theChannelLayerRulesHoldInThePage() throws Exception {
    platform.replaysInThePage("relay-channel-rules.js", 25);
  }

  @Test
  void thePagesProtobufDecoderRefusesWrongWireTypesTruncatedOversizedAndMalformedInput()
      throws Exception {
    platform.replaysInThePage("proto-rules.js", 45);
  }

  private JsonObject listed(String session) {
    return ok(platform.admin, "agent-session", "list", "local", "--json").array().stream()
        .map(JsonObject.class::cast)
        .filter(s -> s.getString("session_id").equals(session))
        .findFirst()
        .orElseThrow();
  }

  /** The page's watched frames as "seq:type" (session frames only). */
  @SuppressWarnings("unchecked")
  private List<String> pageFrames() {
    return (List<String>)
        tab.js(
            "[...document.querySelectorAll('#agent-frames li')].filter(li => li.dataset.seq)"
                + ".map(li => li.dataset.seq + ':' + li.dataset.type)");
  }

  private void awaitFrame(String text) {
    tab.page.waitForFunction(
        "t => [...document.querySelectorAll('#agent-frames li')].some(li => li.textContent.includes(t))",
        text,
        new Page.WaitForFunctionOptions().setTimeout(60_000));
  }

  @Test
  void aSessionStartedInThePageIsWatchedWithTheCliPromptedApprovedAndPagedEndToEnd()
      throws Exception {
    String canary = Traces.canary("websess");
    tab.page.fill("#agent-runtime", "bot");
    tab.page.click("#agent-start");
    tab.await("#agent-state[data-state=watching]");
    String session = tab.page.textContent("#agent-session");
    awaitFrame("state=ready");

    // the CLI watches the same session; a prompt typed in the page reaches the runtime
    CompletableFuture<UmbraRun> cli =
        AgentMachine.watch(platform.admin, session, "you said: hello " + canary, 90);
    Eventually.until(
        "the page and the CLI watch",
        Duration.ofSeconds(60),
        AgentMachine.LIST_POLL,
        () -> listed(session),
        s -> s.getInteger("watchers") == 2);
    tab.page.fill("#agent-prompt", "hello " + canary);
    tab.page.click("#agent-send");
    awaitFrame("you said: hello " + canary);
    UmbraRun watched = cli.get(90, TimeUnit.SECONDS);
    assertThat(watched.code()).as(watched.err()).isZero();
    List<String> cliFrames =
        AgentMachine.frames(watched).stream()
            .map(f -> f.getLong("seq") + ":" + f.getString("type"))
            .toList();
    assertThat(cliFrames).contains("1:status").anyMatch(f -> f.endsWith(":prompt"));
    assertThat(pageFrames())
        .as("the page saw what the CLI saw, in the same order")
        .startsWith(cliFrames.toArray(String[]::new));

    // an approval the runtime asks for is given in the page
    tab.page.fill("#agent-prompt", "deploy");
    tab.page.click("#agent-send");
    tab.await("#agent-frames button[data-approval=a1][data-answer=approve]");
    tab.page.click("#agent-frames button[data-approval=a1][data-answer=approve]");
    awaitFrame("deploying now");

    // the page lists the machine's sessions
    tab.page.click("#agent-list");
    tab.await("#agent-sessions-body tr[data-session='" + session + "']");
    assertThat(
            tab.page.textContent(
                "#agent-sessions-body tr[data-session='" + session + "'] td[data-col=runtime]"))
        .isEqualTo("bot");

    // the transcript is paged from the daemon: three frames a page
    tab.page.fill("#agent-transcript-id", session);
    tab.page.fill("#agent-limit", "3");
    tab.page.click("#agent-transcript-open");
    tab.await("#agent-transcript[data-from='1'] li");
    assertThat(seqs("#agent-transcript li")).containsExactly("1", "2", "3");
    tab.page.click("#agent-next");
    tab.await("#agent-transcript[data-from='4'] li");
    assertThat(seqs("#agent-transcript li")).containsExactly("4", "5", "6");

    tab.page.click("#agent-detach");
    tab.await("#agent-state[data-state=detached]");
    assertThat(tab.console).noneMatch(m -> m.startsWith("pageerror"));
    assertThat(traces.anywhere(canary)).as("the prompt and output stay end to end").isEmpty();
  }

  @SuppressWarnings("unchecked")
  private List<String> seqs(String selector) {
    return (List<String>)
        tab.js("[...document.querySelectorAll(\"" + selector + "\")].map(li => li.dataset.seq)");
  }

  @Test
  void aMachineKeySwappedAfterThePinIsRefusedInThePageBeforeAnythingIsSent() throws Exception {
    tab.page.click("#agent-list");
    tab.await("#agent-note:has-text('session')");
    String original;
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet r =
            st.executeQuery(
                "SELECT encode(x25519_public_key, 'hex') FROM control_plane.machines"
                    + " WHERE name = 'local'")) {
      assertThat(r.next()).isTrue();
      original = r.getString(1);
    }
    String swapped = "11".repeat(32);
    try {
      // what a compromised control plane could serve: another key in the machine's record (renamed
      // too, so the page's refreshed list shows it has the record)
      setMachine("local", swapped, "local-swapped");
      tab.page.click("#lists-refresh");
      tab.page.waitForFunction(
          "() => document.querySelector('#agent-machine option').textContent === 'local-swapped'",
          null,
          new Page.WaitForFunctionOptions().setTimeout(Tab.WAIT_MS));
      tab.page.click("#agent-list");
      tab.page.waitForFunction(
          "() => document.getElementById('agent-error').textContent.includes('changed since this"
              + " browser pinned it')",
          null,
          new Page.WaitForFunctionOptions().setTimeout(Tab.WAIT_MS));
    } finally {
      setMachine("local-swapped", original, "local");
      tab.page.click("#lists-refresh");
      tab.page.waitForFunction(
          "() => document.querySelector('#agent-machine option').textContent === 'local'",
          null,
          new Page.WaitForFunctionOptions().setTimeout(Tab.WAIT_MS));
    }
  }

  private void setMachine(String name, String keyHex, String newName) throws Exception {
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement()) {
      assertThat(
              st.executeUpdate(
                  "UPDATE control_plane.machines SET x25519_public_key = decode('"
                      + keyHex
                      + "', 'hex'), name = '"
                      + newName
                      + "' WHERE name = '"
                      + name
                      + "'"))
          .isEqualTo(1);
    }
  }
}
