package dev.umbra.chaos;

import static dev.umbra.cli.CliHarness.ok;

import com.microsoft.playwright.Page;
import dev.umbra.chaos.ChaosCluster.Svc;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.web.Chromium;
import dev.umbra.web.Tab;
import java.time.Clock;

/**
 * The browser client under the chaos suite's load: Debian's Chromium (or a loud skip) with the
 * browser app of the cluster's control plane through HAProxy, signed in with an API token of the
 * owner, trusted as a device by the owner's CLI, and a terminal open on the suite's machine (its
 * engine through HAProxy too), as the browser tests in {@code dev.umbra.web} do it.
 */
final class ChaosBrowser implements AutoCloseable {
  static final double WAIT_MS = 60_000;
  private static final String HAS_TEXT =
      "c => { const t = document.getElementById('terminal-screen').terminal; if (!t) return false;"
          + " const b = t.buffer.active; for (let i = 0; i < b.length; i++) {"
          + " const l = b.getLine(i); if (l && l.translateToString(true).includes(c)) return true; }"
          + " return false; }";

  private final Chromium chromium;
  final Tab tab;

  private ChaosBrowser(Chromium chromium, Tab tab) {
    this.chromium = chromium;
    this.tab = tab;
  }

  /** Launches Chromium (or skips the test), signs in, gets trusted and opens the terminal. */
  static ChaosBrowser open(ChaosLoad load) {
    Chromium chromium = Chromium.launchOrSkip();
    ChaosBrowser b = new ChaosBrowser(chromium, new Tab(chromium.browser.newContext()));
    try {
      b.terminal(load);
      return b;
    } catch (RuntimeException | AssertionError e) {
      b.close();
      throw e;
    }
  }

  private void terminal(ChaosLoad load) {
    String token =
        ok(load.admin, "tokens", "create", "chaos-web", "--json").json().getString("token");
    Page page = tab.page;
    page.setDefaultTimeout(WAIT_MS);
    page.navigate(load.cluster.url(Svc.CONTROL_PLANE) + "/app/");
    page.fill("#token", token);
    page.click("#signin-submit");
    page.waitForFunction("() => document.body.dataset.state === 'signed-in'");
    page.waitForSelector("#device-enrol:not([hidden])");
    page.fill("#device-name", "chaos browser");
    page.click("#device-request");
    tab.awaitStatus("pending");
    ok(
        load.admin,
        "devices",
        "approve",
        page.textContent("#device-id"),
        "--code",
        page.textContent("#device-code"));
    tab.awaitStatus("trusted");
    // what the daemon's heartbeat does first: it then admits the browser trusted since
    Binding binding = load.store.list().get(0);
    new TrustSync(new JsonHttp(), Clock.systemUTC())
        .sync(
            binding,
            load.store.root().resolve(binding.machineId().toString()),
            load.store.signingKey(binding))
        .orElseThrow();
    page.selectOption("#terminal-machine", binding.machineId().toString());
    page.click("#terminal-open");
    tab.await("#terminal-state[data-state=live]");
    typeLine("echo page-$((20+1))");
    awaitScreen("page-21");
  }

  void typeLine(String line) {
    tab.page.click("#terminal-screen");
    tab.page.keyboard().type(line);
    tab.page.keyboard().press("Enter");
  }

  void awaitScreen(String text) {
    tab.page.waitForFunction(HAS_TEXT, text, new Page.WaitForFunctionOptions().setTimeout(WAIT_MS));
  }

  String state() {
    return tab.page.getAttribute("#terminal-state", "data-state");
  }

  String note() {
    return tab.page.textContent("#terminal-note");
  }

  String failovers() {
    return tab.page.getAttribute("#terminal-screen", "data-failovers");
  }

  @Override
  public void close() {
    tab.close();
    chromium.close();
  }
}
