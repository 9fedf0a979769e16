package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Response;
import com.microsoft.playwright.Route;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The browser app (clients/web, docs/web.md) in real Chromium against a real control plane and
 * pairing service on PostgreSQL and Redis, approved by the real `umbra` CLI: the page's policy and
 * integrity hashes, sign-in with an API token, this browser as a trusted device of the workspace,
 * the machines and devices lists, hostile names, a hostile control plane, and the conformance
 * vectors replayed in the page.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebAppBrowserTest {
  static final String HOSTILE_MACHINE = "<img src=x onerror=\"window.__pwned=1\">m1</td>";
  static final String HOSTILE_DEVICE = "<b>web</b><script>window.__pwned=2</script>";

  BrowserPlatform platform;
  Chromium chromium;
  CliHarness h;
  Path admin;
  String token;
  String app;

  @BeforeAll
  void start() throws Exception {
    platform = BrowserPlatform.start("web", ServiceName.PAIRING);
    chromium = platform.chromium;
    h = platform.h;
    admin = platform.admin;
    token = platform.token;
    String code =
        ok(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    ok(
        h.tmp.resolve("machine"),
        "daemon",
        "pair",
        code,
        "--url",
        h.cpUrl,
        "--name",
        HOSTILE_MACHINE);
    app = platform.app;
  }

  @AfterAll
  void stop() throws Exception {
    if (platform != null) {
      platform.close();
    }
  }

  @Test
  void thePageRunsUnderItsPolicyWithAnIntegrityHashOnEveryFileItLoads() {
    try (Tab t = platform.tab()) {
      Response r = t.page.navigate(app);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.headers().get("content-security-policy"))
          .contains("script-src 'self'", "frame-ancestors 'none'", "trusted-types 'none'");
      assertThat(r.headers()).containsEntry("x-content-type-options", "nosniff");
      assertThat(r.headers()).containsEntry("referrer-policy", "no-referrer");
      t.page.waitForFunction("() => document.body.dataset.state === 'signed-out'");
      assertThat(
              t.js(
                  "[...document.querySelectorAll('script, link')]"
                      + ".filter(e => !/^sha384-[A-Za-z0-9+/]{64}$/.test(e.integrity)).map(e => e.outerHTML)"))
          .asList()
          .isEmpty();
      // every script or style the page fetched is one it lists with its hash
      assertThat(
              t.js(
                  "(() => { const listed = new Set([...document.querySelectorAll('script[src], link[href]')]"
                      + ".map(e => e.src || e.href));"
                      + " return performance.getEntriesByType('resource').map(e => e.name)"
                      + ".filter(n => !listed.has(n)); })()"))
          .asList()
          .isEmpty();
      // the policy refuses markup from a string and inline script, whatever code asks for it
      assertThat(
              t.js(
                  "(() => { try { document.body.innerHTML = '<b>x</b>'; return 'parsed'; }"
                      + " catch (e) { return e.name; } })()"))
          .isEqualTo("TypeError");
      t.js(
          "(() => { const s = document.createElement('script'); try { s.text = 'window.__inline = 1'; } catch (e) {}"
              + " document.head.append(s); })()");
      assertThat(t.js("window.__inline === undefined")).isEqualTo(true);
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  @Test
  void thePageCannotBeFramedByAnotherOrigin() {
    try (Tab t = platform.tab()) {
      t.page.setContent("<iframe src=\"" + app + "\"></iframe>");
      t.awaitConsole("frame-ancestors");
    }
  }

  @Test
  void aScriptWhoseBytesDifferFromItsIntegrityHashIsRefusedAndTheAppDoesNotStart() {
    try (Tab t = platform.tab()) {
      t.context.route(
          "**/app/js/codes.js",
          route -> {
            APIResponse real = route.fetch();
            route.fulfill(
                new Route.FulfillOptions()
                    .setResponse(real)
                    .setBody(real.text() + "\nwindow.__tampered = true;\n"));
          });
      t.page.navigate(app);
      t.awaitConsole("integrity");
      assertThat(
              t.js("document.body.dataset.state === undefined && window.__tampered === undefined"))
          .isEqualTo(true);
    }
  }

  @Test
  void signsInWithAnApiTokenAndBecomesATrustedDeviceApprovedByTheCliWithItsCode() {
    try (Tab t = platform.tab()) {
      platform.requestTrust(t, HOSTILE_DEVICE);
      String id = t.page.textContent("#device-id");
      String code = t.page.textContent("#device-code");
      assertThat(code).matches("[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}");
      UmbraRun wrong = umbra(admin, "devices", "approve", id, "--code", "0000-0000-0000-0000");
      assertThat(wrong.code()).isNotZero();
      assertThat(wrong.err()).contains("does not match");
      // the CLI recomputes the code from the request it fetched: the same code means the same keys
      ok(admin, "devices", "approve", id, "--code", code);
      t.awaitStatus("trusted");
      assertThat(t.page.textContent("#device-code")).isEqualTo(code);
      assertThat(t.page.textContent("#device-key")).matches("[0-9a-f]{64}");
      assertThat(t.page.textContent("#device-keyset"))
          .startsWith("version 1, opened in this browser");
      t.page.waitForFunction(
          "() => [...document.querySelectorAll('#devices-body td[data-col=verified]')]"
              + ".filter(td => td.textContent === 'yes').length === 2");
      JsonObject row = cliDevice(id);
      assertThat(row.getString("kind")).isEqualTo("browser");
      assertThat(row.getString("verified")).isEqualTo("yes");
      assertThat(row.getString("name")).isEqualTo(HOSTILE_DEVICE);
      namesRenderAsText(t);
      privateKeysAreNonExtractable(t);
      nothingSecretIsKept(t);
      revokesAnotherTrustedBrowserAsTheCliDoes(t);
      aTamperedKeysetEnvelopeIsRefused(t);
      aSwappedWorkspaceKeyIsRefused(t);
    }
  }

  @Test
  void aRefusedApiTokenLeavesThePageSignedOutAndKeepsNothing() {
    String wrong = "umb_" + "A".repeat(59);
    try (Tab t = platform.tab()) {
      t.page.navigate(app);
      t.page.fill("#token", wrong);
      t.page.click("#signin-submit");
      t.page.waitForFunction("() => document.getElementById('signin-error').textContent !== ''");
      assertThat(t.page.textContent("#signin-error"))
          .isEqualTo("the control plane refused this API token");
      assertThat(t.js("document.body.dataset.state")).isEqualTo("signed-out");
      assertThat(t.js("document.getElementById('token').value")).isEqualTo("");
      assertThat(t.js("localStorage.length + sessionStorage.length")).isEqualTo(0);
      assertThat(t.page.url()).isEqualTo(app);
      assertThat(t.page.content()).doesNotContain(wrong);
    }
  }

  JsonObject cliDevice(String id) {
    JsonArray all = ok(admin, "devices", "list", "--json").array();
    for (Object o : all) {
      if (((JsonObject) o).getString("id").equals(id)) {
        return (JsonObject) o;
      }
    }
    throw new AssertionError("device " + id + " not listed by the CLI: " + all.encode());
  }

  /**
   * A second browser, approved by the CLI, is revoked from the first one's page with a revocation
   * signed by the workspace key the first opens from its envelope: the control plane accepts it (it
   * verifies that signature), the CLI lists the device as revoked, and the second page says so.
   */
  void revokesAnotherTrustedBrowserAsTheCliDoes(Tab t) {
    try (Tab other = platform.tab()) {
      platform.trustedBrowser(other, "second browser");
      String id = other.page.textContent("#device-id");
      t.page.click("#lists-refresh");
      t.page.click(
          "#devices-body button[data-revoke='" + id + "']",
          new Page.ClickOptions().setTimeout(Tab.WAIT_MS));
      t.page.waitForFunction(
          "id => [...document.querySelectorAll('#devices-body tr')].some(tr =>"
              + " tr.querySelector('td[data-col=id]').textContent === id"
              + " && tr.querySelector('td[data-col=status]').textContent === 'revoked')",
          id);
      assertThat(t.page.textContent("#device-error")).isEmpty();
      assertThat(cliDevice(id).getString("status")).isEqualTo("revoked");
      platform.signIn(other);
      other.awaitStatus("revoked");
      assertThat(t.page.querySelectorAll("#devices-body button[data-revoke]")).isNotEmpty(); // CLI
    }
  }

  void namesRenderAsText(Tab t) {
    t.page.waitForFunction(
        "() => document.querySelector('#machines-body td[data-col=name]') !== null");
    assertThat(t.page.textContent("#machines-body td[data-col=name]")).isEqualTo(HOSTILE_MACHINE);
    assertThat(t.page.textContent("#machines-body td[data-col=status]")).isEqualTo("active");
    assertThat(
            t.js(
                "[...document.querySelectorAll('#devices-body td[data-col=name]')].map(td => td.textContent)"))
        .asList()
        .contains(HOSTILE_DEVICE);
    assertThat(t.js("document.querySelectorAll('main img, main script, main b').length"))
        .isEqualTo(0);
    assertThat(t.js("window.__pwned === undefined")).isEqualTo(true);
  }

  void privateKeysAreNonExtractable(Tab t) {
    Object result =
        t.page.evaluate(
            "async () => { const s = await import('/app/js/device-store.js');"
                + " const w = document.getElementById('workspace-select').value;"
                + " const d = await s.loadDevice(w);"
                + " const keys = [d.signing.privateKey, d.envelope.privateKey, d.webtty.privateKey];"
                + " const refused = [];"
                + " for (const k of keys) { try { await crypto.subtle.exportKey('pkcs8', k); } catch (e) { refused.push(e.name); } }"
                + " return { algs: keys.map(k => k.algorithm.name), extractable: keys.map(k => k.extractable), refused }; }");
    @SuppressWarnings("unchecked")
    Map<String, Object> r = (Map<String, Object>) result;
    assertThat(r.get("algs")).asList().containsExactly("Ed25519", "ECDH", "X25519");
    assertThat(r.get("extractable")).asList().containsExactly(false, false, false);
    assertThat(r.get("refused"))
        .asList()
        .containsExactly("InvalidAccessError", "InvalidAccessError", "InvalidAccessError");
  }

  void nothingSecretIsKept(Tab t) {
    assertThat(t.page.url()).isEqualTo(app).doesNotContain(token);
    assertThat(t.js("localStorage.length + sessionStorage.length")).isEqualTo(0);
    assertThat(t.js("document.cookie")).isEqualTo("");
    assertThat(t.context.cookies()).isEmpty();
    assertThat(t.js("document.getElementById('token').value")).isEqualTo("");
    assertThat(t.page.content()).doesNotContain(token);
    Object stored =
        t.page.evaluate(
            "async () => { const s = await import('/app/js/device-store.js');"
                + " const d = await s.loadDevice(document.getElementById('workspace-select').value);"
                + " return JSON.stringify(d, (k, v) => v instanceof CryptoKey ? '(key)' : v); }");
    assertThat((String) stored).doesNotContain(token).doesNotContain("umb_");
  }

  /** A control plane that flips a bit of this browser's keyset envelope: not trusted. */
  void aTamperedKeysetEnvelopeIsRefused(Tab t) {
    t.context.route(
        "**/envelope",
        route -> {
          JsonObject sealed = new JsonObject(route.fetch().text());
          JsonObject env = sealed.getJsonObject("envelope");
          String ct = env.getString("ciphertext");
          env.put("ciphertext", ct.substring(0, ct.length() - 1) + (ct.endsWith("0") ? "1" : "0"));
          route.fulfill(
              new Route.FulfillOptions()
                  .setStatus(200)
                  .setContentType("application/json")
                  .setBody(sealed.encode()));
        });
    platform.signIn(t);
    t.awaitStatus("untrusted");
    assertThat(t.page.textContent("#device-keyset"))
        .isEqualTo("refused: the envelope does not open");
    t.context.unroute("**/envelope");
  }

  /**
   * A control plane that serves another workspace key (a self-consistent chain of its own) after
   * this browser pinned the real one: the page refuses, as the CLI does.
   */
  void aSwappedWorkspaceKeyIsRefused(Tab t) {
    UUID w = UUID.fromString((String) t.js("document.getElementById('workspace-select').value"));
    Ed25519KeyPair forged = Ed25519KeyPair.generate();
    TrustModel.Keyset keyset =
        new TrustModel.Keyset(
            w, 1, forged.publicKey(), X25519KeyPair.generate().publicKey(), "2026-12-05T00:00:00Z");
    Signed chain = Signed.sign(keyset.fields(), forged.privateKey());
    String body =
        new JsonObject()
            .put("keysets", new JsonArray().add(chain.toJson()))
            .put("current_version", 1)
            .encode();
    t.context.route(
        "**/keyset",
        route ->
            route.fulfill(
                new Route.FulfillOptions()
                    .setStatus(200)
                    .setContentType("application/json")
                    .setBody(body)));
    platform.signIn(t); // a reload forgets the token; the device and its pin stay in IndexedDB
    t.awaitStatus("refused");
    assertThat(t.page.textContent("#device-status")).contains("workspace key changed");
  }

  /**
   * Names the real control plane refuses (control characters) served by a hostile one: member,
   * workspace, machine and device names render as text, control characters as visible escapes, and
   * no markup of theirs becomes an element or runs.
   */
  @Test
  void namesWithMarkupAndControlCharactersFromAHostileControlPlaneRenderAsText() {
    String evil =
        "<img src=x onerror=\"window.__pwned=1\">\u0007\u001b[31mred\r\n</td><script>window.__pwned=2</script>";
    String shown =
        evil.replace("\u0007", "\\u0007")
            .replace("\u001b", "\\u001b")
            .replace("\r", "\\u000d")
            .replace("\n", "\\u000a");
    String w = UUID.randomUUID().toString();
    JsonObject machine =
        new JsonObject()
            .put("id", UUID.randomUUID().toString())
            .put("name", evil)
            .put("status", evil)
            .put("os", evil);
    JsonObject device =
        new JsonObject()
            .put("id", UUID.randomUUID().toString())
            .put("name", evil)
            .put("kind", evil)
            .put("status", "trusted")
            .put("request", new JsonObject().put("payload", evil).put("signature", "00"));
    Map<String, String> answers =
        Map.of(
            "/v1/me", new JsonObject().put("account_id", w).put("name", evil).encode(),
            "/v1/workspaces", page(new JsonObject().put("id", w).put("name", evil)),
            "/machines", page(machine),
            "/devices", page(device),
            "/keyset",
                new JsonObject()
                    .put("keysets", new JsonArray())
                    .put("current_version", (Integer) null)
                    .encode());
    try (Tab t = platform.tab()) {
      t.context.route(
          url -> url.contains("/v1/"),
          route -> {
            String path = java.net.URI.create(route.request().url()).getPath();
            String body =
                answers.entrySet().stream()
                    .filter(e -> path.endsWith(e.getKey()))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElse(null); // anything else (the discovery, sessions): not found
            route.fulfill(
                new Route.FulfillOptions()
                    .setStatus(body == null ? 404 : 200)
                    .setContentType("application/json")
                    .setBody(body == null ? "{\"error\":{\"code\":\"not_found\"}}" : body));
          });
      platform.signIn(t);
      t.page.waitForFunction(
          "() => document.querySelector('#devices-body td[data-col=name]') !== null");
      assertThat(t.page.textContent("#who")).isEqualTo("signed in as " + shown);
      assertThat(t.page.textContent("#workspace-select option")).isEqualTo(shown);
      for (String cell :
          List.of(
              "#machines-body td[data-col=name]",
              "#machines-body td[data-col=status]",
              "#devices-body td[data-col=name]",
              "#devices-body td[data-col=kind]")) {
        assertThat(t.page.textContent(cell)).as(cell).isEqualTo(shown);
      }
      assertThat(t.page.textContent("#devices-body td[data-col=verified]")).isEqualTo("no");
      assertThat(
              t.js(
                  "document.querySelectorAll('main img, main script, header img, header script').length"))
          .isEqualTo(0);
      assertThat(t.js("window.__pwned === undefined")).isEqualTo(true);
    }
  }

  static String page(JsonObject item) {
    return new JsonObject()
        .put("items", new JsonArray().add(item))
        .put("next_cursor", (String) null)
        .encode();
  }

  @Test
  void theConformanceVectorsReplayInThePage() throws IOException {
    platform.replaysInThePage(
        "conformance-replay.js",
        30,
        "canonical-json.json",
        "device-webtty-key.json",
        "webtty-policy.json",
        "device-trust.json",
        "relay-client-auth.json");
  }
}
