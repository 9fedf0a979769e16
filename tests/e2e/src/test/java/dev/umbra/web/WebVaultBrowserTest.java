package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The context vault in the browser app (docs/web.md, "Vault") in real Chromium against a real
 * control plane and audit service: an entry written by `umbra vault put` opens in the page and one
 * sealed in the page opens with `umbra vault get` (the same HPKE encoding both ways); a hostile
 * control plane that swaps the workspace encryption key or moves a ciphertext to another name is
 * refused in the page; a value put from the page reaches no table, Redis key, bus message or log
 * line. Also takes the audit panel's picture for docs/web.md.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebVaultBrowserTest {
  static final Predicate<String> ONE_ENTRY =
      url -> java.net.URI.create(url).getPath().matches(".*/vault/entries/[0-9a-f-]{36}");

  BrowserPlatform platform;
  CliHarness h;
  Path admin;
  UUID workspace;
  Traces traces;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    platform = BrowserPlatform.start("web-vault", ServiceName.PAIRING, ServiceName.AUDIT);
    h = platform.h;
    admin = platform.admin;
    traces.watch(h);
    workspace = CliHarness.workspaceId(admin, "dev");
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    if (platform != null) {
      platform.close();
    }
  }

  /** A browser the CLI approved with its code: trusted, so its vault panel shows. */
  Tab trustedBrowser(String name) {
    Tab t = WebDeviceApprovalBrowserTest.browser(platform);
    WebDeviceApprovalBrowserTest.asksToBeTrusted(platform, t, name);
    ok(
        admin,
        "devices",
        "approve",
        WebDeviceApprovalBrowserTest.id(t),
        "--code",
        WebDeviceApprovalBrowserTest.code(t));
    t.awaitStatus("trusted");
    t.page.waitForSelector("#vault:not([hidden])");
    return t;
  }

  void cliPut(String name, String value) throws Exception {
    Path file = Files.writeString(h.tmp.resolve("vault-value-" + UUID.randomUUID()), value);
    ok(admin, "vault", "put", name, "--from-file", file.toString());
  }

  /** Opens entry {@code name} in the page (by its name) and returns the value shown. */
  static String openInThePage(Tab t, String name) {
    t.page.fill("#vault-get-name", name);
    t.page.click("#vault-get-submit");
    t.page.waitForSelector(
        "#vault-value[data-name='" + name + "']",
        new Page.WaitForSelectorOptions().setTimeout(Tab.WAIT_MS));
    return t.page.inputValue("#vault-value");
  }

  static String awaitVaultError(Tab t) {
    t.page.waitForFunction("() => document.getElementById('vault-error').textContent !== ''");
    return t.page.textContent("#vault-error");
  }

  @Test
  void anEntryFromTheCliOpensInThePageAndOneSealedInThePageOpensInTheCliAndNoServerSeesIt()
      throws Exception {
    String canary = Traces.canary("webvault");
    String fromCli = "from the CLI: café ✓\nsecond line";
    try (Tab t = trustedBrowser("vault browser")) {
      cliPut("cli/note", fromCli);
      t.page.click("#vault-list");
      t.page.click("#vault-body button[data-vault-open='cli/note']");
      t.page.waitForSelector("#vault-value[data-name='cli/note']");
      assertThat(t.page.inputValue("#vault-value")).isEqualTo(fromCli);

      t.page.fill("#vault-name", "web/canary");
      t.page.fill("#vault-put-value", canary);
      t.page.click("#vault-put-submit");
      t.page.waitForSelector("#vault-body button[data-vault-open='web/canary']");
      assertThat(t.page.inputValue("#vault-put-value")).isEmpty();
      assertThat(ok(admin, "vault", "get", "web/canary").out()).isEqualTo(canary);
      assertThat(openInThePage(t, "web/canary")).isEqualTo(canary);
      t.page.click("#vault-hide");
      assertThat(t.page.inputValue("#vault-value")).isEmpty();
      assertThat(t.page.textContent("#vault-body")).contains("cli/note", "web/canary");
      auditPicture(t);
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
    }
    assertThat(h.pg.rowsAsText().keySet()).anyMatch(table -> table.startsWith("audit."));
    assertThat(traces.anywhere(canary)).isEmpty();
  }

  /**
   * The audit panel filtered to approvals and vault writes once the page's write arrived live:
   * docs/images/web-audit.png.
   */
  static void auditPicture(Tab t) {
    t.page.fill("#audit-action", "device.approved, vault.entry_written");
    t.page.click("#audit-apply");
    t.page.waitForFunction(
        "() => document.querySelector('#audit-tail').dataset.state === 'live'"
            + " && [...document.querySelectorAll('#audit-body td[data-col=action]')]"
            + ".filter(td => td.textContent === 'vault.entry_written').length >= 2",
        null,
        new Page.WaitForFunctionOptions().setTimeout(Tab.WAIT_MS));
    t.picture("#audit", "web-audit.png");
  }

  @Test
  void aSwappedWorkspaceEncryptionKeyIsRefusedAndNothingIsSent() throws Exception {
    try (Tab t = trustedBrowser("swapped key")) {
      List<String> posted = new CopyOnWriteArrayList<>();
      t.page.onRequest(
          r -> {
            if (r.method().equals("POST") && r.url().contains("/vault/")) {
              posted.add(r.url());
            }
          });
      String other = X25519KeyPair.generate().publicKey().toHex(); // never the workspace's
      t.context.route(
          "**/keyset",
          route ->
              WebDeviceApprovalBrowserTest.answer(
                  route,
                  chain -> {
                    JsonArray links = chain.getJsonArray("keysets");
                    JsonObject last = links.getJsonObject(links.size() - 1);
                    JsonObject payload = new JsonObject(last.getString("payload"));
                    last.put(
                        "payload",
                        CanonicalJson.canonicalize(
                            payload.put("encryption_public_key", other).encode()));
                    return chain;
                  }));
      t.page.fill("#vault-name", "web/swapped");
      t.page.fill("#vault-put-value", "sealed to whom?");
      t.page.click("#vault-put-submit");
      assertThat(awaitVaultError(t))
          .isEqualTo("the signature of a umbra-keyset/v1 document does not verify");
      t.context.unroute("**/keyset");
      assertThat(posted).isEmpty();
      assertThat(ok(admin, "vault", "list", "--json").out()).doesNotContain("web/swapped");
    }
  }

  @Test
  void aCiphertextMovedToAnotherNameOrAnotherEntryOrAnUnknownVersionIsRefusedInThePage()
      throws Exception {
    cliPut("hostile/a", "value of a");
    cliPut("hostile/b", "value of b");
    JsonObject a = entry("hostile/a");
    try (Tab t = trustedBrowser("moved ciphertext")) {
      assertThat(openInThePage(t, "hostile/b")).isEqualTo("value of b");
      t.page.click("#vault-hide");
      assertThat(
              refused(
                  t,
                  e ->
                      e.put("enc", a.getString("enc"))
                          .put("ciphertext", a.getString("ciphertext"))))
          .isEqualTo("vault entry hostile/b does not decrypt (tampered, or sealed to another key)");
      assertThat(refused(t, e -> a.copy()))
          .isEqualTo("the control plane returned another entry than hostile/b: refusing");
      assertThat(refused(t, e -> e.put("keyset_version", 7)))
          .isEqualTo(
              "vault entry hostile/b names a keyset version the workspace chain does not have:"
                  + " refusing");
      assertThat(t.page.inputValue("#vault-value")).isEmpty();
      assertThat(t.page.isHidden("#vault-value")).isTrue();
    }
  }

  /**
   * After a rotation (a revocation rotates the keyset), an entry sealed under the earlier version
   * opens in the page with that version's key from the bundle (checked against the chain), and a
   * value put from the page is sealed under the new version and opens with the CLI.
   */
  @Test
  void anEntryOfAnEarlierKeysetVersionOpensInThePageAfterARotation() throws Exception {
    cliPut("rotation/before", "sealed before the rotation");
    try (Tab t = trustedBrowser("across a rotation")) {
      h.trustedSecond(admin, "spare", "dev");
      String spare =
          ok(admin, "devices", "list", "--json").array().stream()
              .map(JsonObject.class::cast)
              .filter(d -> d.getString("name").equals("spare"))
              .findFirst()
              .orElseThrow()
              .getString("id");
      ok(admin, "devices", "revoke", spare); // and rotates the keyset
      assertThat(openInThePage(t, "rotation/before")).isEqualTo("sealed before the rotation");
      t.page.fill("#vault-name", "rotation/after");
      t.page.fill("#vault-put-value", "sealed after the rotation");
      t.page.click("#vault-put-submit");
      t.page.waitForSelector("#vault-body button[data-vault-open='rotation/after']");
      assertThat(ok(admin, "vault", "get", "rotation/after").out())
          .isEqualTo("sealed after the rotation");
      assertThat(entry("rotation/after").getInteger("keyset_version"))
          .isEqualTo(entry("rotation/before").getInteger("keyset_version") + 1);
    }
  }

  /** The page's error when it opens hostile/b and the control plane answers {@code change}d. */
  static String refused(Tab t, UnaryOperator<JsonObject> change) {
    t.context.route(ONE_ENTRY, route -> WebDeviceApprovalBrowserTest.answer(route, change));
    try {
      t.page.fill("#vault-get-name", "hostile/b");
      t.page.click("#vault-get-submit");
      return awaitVaultError(t);
    } finally {
      t.context.unroute(ONE_ENTRY);
    }
  }

  /** Entry {@code name} as the control plane serves it (ciphertext), read with the API token. */
  JsonObject entry(String name) {
    String entries = "/v1/workspaces/" + workspace + "/vault/entries";
    for (Object o : h.cp("GET", entries, platform.token, null).body().getJsonArray("items")) {
      JsonObject meta = (JsonObject) o;
      if (meta.getString("name").equals(name)) {
        return h.cp("GET", entries + "/" + meta.getString("id"), platform.token, null).body();
      }
    }
    throw new AssertionError("no vault entry " + name);
  }
}
