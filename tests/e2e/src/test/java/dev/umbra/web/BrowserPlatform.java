package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;

import dev.umbra.cli.CliHarness;
import dev.umbra.kit.config.ServiceName;
import java.nio.file.Path;

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

  @Override
  public void close() throws Exception {
    chromium.close();
    h.close();
  }
}
