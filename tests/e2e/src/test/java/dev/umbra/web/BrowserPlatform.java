package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import dev.umbra.cli.CliHarness;
import dev.umbra.kit.config.ServiceName;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the browser tests start with: Chromium (or a skip), the control plane and {@code services}
 * on PostgreSQL and Redis, the real CLI logged in as the bootstrap owner of workspace "dev" and
 * trusted as its first device (which makes the keyset), and an API token of that owner for the
 * page.
 */
final class BrowserPlatform implements AutoCloseable {
  final Chromium chromium;
  final CliHarness h;
  final Path admin;
  final String token;

  private BrowserPlatform(Chromium chromium, CliHarness h, Path admin, String token) {
    this.chromium = chromium;
    this.h = h;
    this.admin = admin;
    this.token = token;
  }

  static BrowserPlatform start(String name, ServiceName... services) throws Exception {
    Chromium chromium = Chromium.launchOrSkip();
    String bootstrap = "bootstrap-token-for-the-" + name + "-test-0123456789";
    CliHarness h = null;
    try {
      h = CliHarness.start(name, bootstrap, services);
      Path admin = h.tmp.resolve("admin");
      ok(admin, "login", h.cpUrl, "--bootstrap-token", bootstrap, "--workspace", "dev");
      ok(admin, "device", "trust", "-w", "dev", "--json"); // the first device: makes the keyset
      String token = ok(admin, "tokens", "create", "web", "--json").json().getString("token");
      return new BrowserPlatform(chromium, h, admin, token);
    } catch (Exception | AssertionError e) {
      chromium.close();
      if (h != null) {
        h.close();
      }
      throw e;
    }
  }

  /** A fresh browser context and page, its console and page errors collected. */
  record Tab(BrowserContext context, Page page, List<String> console) implements AutoCloseable {
    @Override
    public void close() {
      context.close();
    }
  }

  Tab tab() {
    BrowserContext c = chromium.browser.newContext();
    Page p = c.newPage();
    List<String> console = new CopyOnWriteArrayList<>();
    p.onConsoleMessage(m -> console.add(m.type() + ": " + m.text()));
    p.onPageError(e -> console.add("pageerror: " + e));
    return new Tab(c, p, console);
  }

  /** Signs in with the owner's API token and gets the tab's browser trusted by the CLI. */
  void trustedBrowser(Tab t, String name, long waitMs) {
    t.page().navigate(h.cpUrl + "/app/");
    t.page().fill("#token", token);
    t.page().click("#signin-submit");
    t.page().waitForSelector("#device-enrol:not([hidden])");
    t.page().fill("#device-name", name);
    t.page().click("#device-request");
    t.page().waitForSelector("#device-status[data-status=pending]");
    ok(
        admin,
        "devices",
        "approve",
        t.page().textContent("#device-id"),
        "--code",
        t.page().textContent("#device-code"));
    t.page()
        .waitForSelector(
            "#device-status[data-status=trusted]",
            new Page.WaitForSelectorOptions().setTimeout(waitMs));
  }

  @Override
  public void close() throws Exception {
    chromium.close();
    h.close();
  }
}
