package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Route;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Approving and rejecting a device from the browser app (docs/web.md, "Approve and reject") in
 * real Chromium against a real control plane: a browser the CLI trusted approves a second browser
 * with the code that browser shows, exactly as `umbra devices approve <id> --code <code>` does (the
 * second one then verifies its credential and opens the envelope the first sealed to it, and the
 * CLI verifies that credential under the workspace key); a wrong code, or a request whose keys a
 * hostile control plane swapped, is refused in the page and nothing is sent; a third browser is
 * rejected.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebDeviceApprovalBrowserTest {
  static final String MISMATCH =
      "the verification code does not match this device's keys: do not approve it (it may not be"
          + " the device you think)";

  BrowserPlatform platform;
  Path admin;

  @BeforeAll
  void start() throws Exception {
    platform = BrowserPlatform.start("web-approve", ServiceName.PAIRING);
    admin = platform.admin;
  }

  @AfterAll
  void stop() throws Exception {
    if (platform != null) {
      platform.close();
    }
  }

  Tab browser() {
    return browser(platform);
  }

  /** A fresh browser profile (its own IndexedDB), its page errors collected. */
  static Tab browser(BrowserPlatform platform) {
    return platform.tab();
  }

  void asksToBeTrusted(Tab t, String name) {
    asksToBeTrusted(platform, t, name);
  }

  /** Signs in with the owner's API token and asks to trust this browser; it waits for approval. */
  static void asksToBeTrusted(BrowserPlatform platform, Tab t, String name) {
    platform.requestTrust(t, name);
  }

  static String id(Tab t) {
    return t.page.textContent("#device-id");
  }

  static String code(Tab t) {
    return t.page.textContent("#device-code");
  }

  /**
   * Types {@code code} into pending device {@code id}'s row and clicks Approve (or Reject), in one
   * step of the page's event loop: the list may be redrawn by a refresh still under way, and the
   * code must go into the row whose button is clicked.
   */
  static void decide(Tab approver, String id, String code, String decision) {
    approver.page.click("#lists-refresh");
    approver.page.waitForSelector("#devices-body [data-" + decision + "='" + id + "']");
    approver.page.evaluate(
        "([id, code, decision]) => { const b = [...document.querySelectorAll("
            + "'#devices-body [data-' + decision + ']')].find(e => e.dataset[decision] === id);"
            + " const input = b.closest('tr').querySelector('input[data-approve-code]');"
            + " if (code) input.value = code; b.click(); }",
        List.of(id, code == null ? "" : code, decision));
  }

  static String awaitError(Tab t) {
    t.page.waitForFunction("() => document.getElementById('device-error').textContent !== ''");
    return t.page.textContent("#device-error");
  }

  JsonObject cliDevice(String id) {
    for (Object o : ok(admin, "devices", "list", "--json").array()) {
      if (((JsonObject) o).getString("id").equals(id)) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  @Test
  void aTrustedBrowserApprovesAnotherWithItsCodeAndRejectsAThirdAsTheCliDoes() {
    try (Tab first = browser();
        Tab second = browser();
        Tab third = browser()) {
      asksToBeTrusted(first, "first browser");
      ok(admin, "devices", "approve", id(first), "--code", code(first));
      first.awaitStatus("trusted");
      List<String> sent = decisionsSent(first);

      asksToBeTrusted(second, "second browser");
      String code = code(second);
      String wrong = (code.charAt(0) == '0' ? "1" : "0") + code.substring(1);
      decide(first, id(second), wrong, "approve");
      assertThat(awaitError(first)).isEqualTo(MISMATCH);
      assertThat(sent).isEmpty();
      assertThat(cliDevice(id(second)).getString("status")).isEqualTo("pending");

      // the code as shown, typed in lower case without dashes: read as the CLI reads it
      decide(first, id(second), code.toLowerCase().replace("-", ""), "approve");
      second.awaitStatus("trusted"); // its credential verified and the envelope opened there
      assertThat(second.page.textContent("#device-keyset"))
          .startsWith("version 1, opened in this browser");
      assertThat(sent).containsExactly("POST /devices/" + id(second) + "/approval");
      JsonObject approved = cliDevice(id(second));
      assertThat(approved.getString("status")).isEqualTo("trusted");
      assertThat(approved.getString("verified")).isEqualTo("yes"); // under the workspace key
      assertThat(first.page.textContent("#device-error")).isEmpty();

      asksToBeTrusted(third, "third browser");
      decide(first, id(third), null, "reject");
      third.awaitStatus("unknown"); // its row is gone: it may forget its keys and ask again
      assertThat(cliDevice(id(third))).isNull();
      assertThat(sent).endsWith("POST /devices/" + id(third) + "/rejection");
      assertThat(first.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  /**
   * The envelope sealed in the page opens in Java: a second CLI asks with `umbra device trust`, the
   * page approves it with the code the CLI printed, and the CLI's own check after approval (its
   * credential verifies under the pinned keyset and its envelope opens to exactly that keyset)
   * passes.
   */
  @Test
  void aCliDeviceApprovedFromThePageOpensTheEnvelopeSealedThere() throws Exception {
    try (Tab first = browser()) {
      asksToBeTrusted(first, "approver of a CLI");
      ok(admin, "devices", "approve", id(first), "--code", code(first));
      first.awaitStatus("trusted");
      Path laptop = platform.h.secondCli(admin, "laptop");
      JsonObject asked =
          ok(laptop, "device", "trust", "-w", "dev", "--wait", "0", "--json", "--name", "laptop")
              .json();
      decide(first, asked.getString("id"), asked.getString("verification_code"), "approve");
      ok(laptop, "device", "trust", "-w", "dev", "--wait", "20");
      assertThat(cliDevice(asked.getString("id")).getString("verified")).isEqualTo("yes");
      assertThat(first.page.textContent("#device-error")).isEmpty();
    }
  }

  /**
   * A hostile control plane serves the pending request with keys of its own, self-signed so that
   * the request verifies: the code the page computes from them is not the one the new browser
   * shows, so the approval is refused and nothing is sent.
   */
  @Test
  void aRequestWhoseKeysTheControlPlaneSwappedIsRefusedWithTheCodeTheDeviceShows() {
    try (Tab first = browser();
        Tab second = browser()) {
      asksToBeTrusted(first, "approver");
      ok(admin, "devices", "approve", id(first), "--code", code(first));
      first.awaitStatus("trusted");
      asksToBeTrusted(second, "swapped");
      String id = id(second);
      UUID w =
          UUID.fromString((String) first.js("document.getElementById('workspace-select').value"));
      Ed25519KeyPair forged = Ed25519KeyPair.generate();
      TrustModel.Request request =
          new TrustModel.Request(
              w,
              UUID.fromString(id),
              new TrustModel.DeviceKeys(forged.publicKey(), P256KeyPair.generate().publicKey()),
              "swapped",
              "browser",
              System.currentTimeMillis());
      JsonObject forgedRequest = Signed.sign(request.fields(), forged.privateKey()).toJson();
      String row = "**/devices/" + id;
      first.context.route(row, route -> answer(route, real -> real.put("request", forgedRequest)));
      List<String> sent = decisionsSent(first);
      decide(first, id, code(second), "approve");
      assertThat(awaitError(first)).isEqualTo(MISMATCH);
      assertThat(sent).isEmpty();
      first.context.unroute(row);
      assertThat(cliDevice(id).getString("status")).isEqualTo("pending");
      assertThat(first.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  /** Answers a routed API call with the real answer's JSON {@code change}d (a hostile server). */
  static void answer(Route route, UnaryOperator<JsonObject> change) {
    JsonObject real = new JsonObject(route.fetch().text());
    route.fulfill(
        new Route.FulfillOptions()
            .setStatus(200)
            .setContentType("application/json")
            .setBody(change.apply(real).encode()));
  }

  /** The approvals and rejections the page posts from now on, as "POST /devices/…/…". */
  static List<String> decisionsSent(Tab t) {
    List<String> sent = new CopyOnWriteArrayList<>();
    t.page.onRequest(
        r -> {
          String path = java.net.URI.create(r.url()).getPath();
          if (path.endsWith("/approval") || path.endsWith("/rejection")) {
            sent.add(r.method() + " " + path.substring(path.indexOf("/devices/")));
          }
        });
    return sent;
  }
}
