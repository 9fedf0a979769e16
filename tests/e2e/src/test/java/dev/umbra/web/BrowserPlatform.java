package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.kit.config.ServiceName;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What the browser tests start with: Chromium (or a skip), the control plane and {@code services}
 * on PostgreSQL and Redis, the real CLI logged in as the bootstrap owner of workspace "dev" and
 * trusted as its first device (which makes the keyset), and an API token of that owner for the
 * page; and the steps every browser test takes: a fresh {@link Tab}, signing in with that token, a
 * browser trusted by the CLI, the conformance vectors replayed in the page.
 */
final class BrowserPlatform implements AutoCloseable {
  final Chromium chromium;
  final CliHarness h;
  final Path admin;
  final String token;

  /** The browser app's address (served by the control plane). */
  final String app;

  private BrowserPlatform(Chromium chromium, CliHarness h, Path admin, String token) {
    this.chromium = chromium;
    this.h = h;
    this.admin = admin;
    this.token = token;
    this.app = h.cpUrl + "/app/";
  }

  static BrowserPlatform start(String name, ServiceName... services) throws Exception {
    return start(name, false, Map.of(), services);
  }

  /** {@link #start} with {@code settings} in the services' environment (a short session life). */
  static BrowserPlatform start(String name, Map<String, String> settings, ServiceName... services)
      throws Exception {
    return start(name, false, settings, services);
  }

  /**
   * {@link #start} with the webtty-engine as two instances behind a balancer, instance A killable
   * ({@link CliHarness#startWithEngineFailover}).
   */
  static BrowserPlatform startWithEngineFailover(String name, ServiceName... services)
      throws Exception {
    return start(name, true, Map.of(), services);
  }

  private static BrowserPlatform start(
      String name, boolean engineFailover, Map<String, String> settings, ServiceName... services)
      throws Exception {
    Chromium chromium = Chromium.launchOrSkip();
    String bootstrap = "bootstrap-token-for-the-" + name + "-test-0123456789";
    CliHarness h = null;
    try {
      h =
          engineFailover
              ? CliHarness.startWithEngineFailover(name, bootstrap, services)
              : CliHarness.start(name, bootstrap, settings, services);
      Path admin = h.trustedOwner();
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

  /** A fresh browser profile with one page. */
  Tab tab() {
    return new Tab(chromium.browser.newContext());
  }

  /** Opens the app in {@code t} and signs in with the owner's API token. */
  void signIn(Tab t) {
    t.page.navigate(app);
    t.page.fill("#token", token);
    t.page.click("#signin-submit");
    t.page.waitForFunction("() => document.body.dataset.state === 'signed-in'");
  }

  /** Signs in and asks, as device {@code name}, to be trusted: the page shows the request. */
  void requestTrust(Tab t, String name) {
    signIn(t);
    t.page.waitForSelector("#device-enrol:not([hidden])");
    t.page.fill("#device-name", name);
    t.page.click("#device-request");
    t.awaitStatus("pending");
  }

  /**
   * Signs in and gets this browser trusted as device {@code name}: it asks, the CLI approves it
   * with the code the page shows.
   */
  void trustedBrowser(Tab t, String name) {
    requestTrust(t, name);
    ok(
        admin,
        "devices",
        "approve",
        t.page.textContent("#device-id"),
        "--code",
        t.page.textContent("#device-code"));
    t.awaitStatus("trusted");
  }

  /**
   * Replays the conformance vectors {@code files} (of shared/crypto/conformance) in a signed-out
   * page with the test script {@code script} (of /web/): no failure, more than {@code atLeast}
   * checks.
   */
  void replaysInThePage(String script, int atLeast, String... files) throws IOException {
    Path dir = Path.of("../../shared/crypto/conformance");
    Map<String, String> vectors = new HashMap<>();
    for (String f : files) {
      vectors.put(f, Files.readString(dir.resolve(f)));
    }
    try (Tab t = tab()) {
      t.page.navigate(app);
      t.page.waitForFunction("() => document.body.dataset.state === 'signed-out'");
      @SuppressWarnings("unchecked")
      Map<String, Object> r = (Map<String, Object>) t.page.evaluate(resource(script), vectors);
      assertThat(r.get("failures")).asList().isEmpty();
      assertThat(((Number) r.get("checked")).intValue()).isGreaterThan(atLeast);
    }
  }

  /** A test resource of /web/ as text. */
  static String resource(String name) throws IOException {
    try (InputStream in = BrowserPlatform.class.getResourceAsStream("/web/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Override
  public void close() throws Exception {
    chromium.close();
    h.close();
  }
}
