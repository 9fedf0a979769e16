package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.APIResponse;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The audit log in the browser app (docs/web.md, "Audit") in real Chromium against a real control
 * plane, pairing and audit service: an event caused through the API arrives live in the page, the
 * filters apply, the chain verifies in the page, and a hostile audit service's tampered chain is
 * reported broken and its entries render as text.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebAuditBrowserTest {
  static final String HOSTILE_TARGET = "<img src=x onerror=\"window.__pwned=3\">t\u0007";
  static final double WAIT_MS = 30_000;

  BrowserPlatform platform;
  Path admin;
  Tab tab;
  Page page;

  @BeforeAll
  void start() throws Exception {
    platform = BrowserPlatform.start("web-audit", ServiceName.PAIRING, ServiceName.AUDIT);
    admin = platform.admin;
    tab = platform.tab();
    page = tab.page;
  }

  @AfterAll
  void stop() throws Exception {
    if (platform != null) {
      platform.close();
    }
  }

  void signInAndAwaitTheLiveTail() {
    platform.signIn(tab);
    awaitLive();
  }

  void awaitLive() {
    page.waitForSelector(
        "#audit-tail[data-state=live]", new Page.WaitForSelectorOptions().setTimeout(WAIT_MS));
  }

  int rows(String action) {
    return ((Number)
            page.evaluate(
                "a => [...document.querySelectorAll('#audit-body td[data-col=action]')]"
                    + ".filter(td => td.textContent === a).length",
                action))
        .intValue();
  }

  String verdict() {
    page.click("#audit-verify");
    page.waitForSelector(
        "#audit-verdict[data-verdict=ok], #audit-verdict[data-verdict=broken]",
        new Page.WaitForSelectorOptions().setTimeout(WAIT_MS));
    return page.getAttribute("#audit-verdict", "data-verdict")
        + ": "
        + page.textContent("#audit-verdict");
  }

  @Test
  void anEventCausedThroughTheApiArrivesLiveAndTheChainVerifiesInThePage() {
    signInAndAwaitTheLiveTail();
    int before = rows("pairing.code_created");
    ok(admin, "pair", "create", "--json", "--workspace", "dev"); // a workspace event, by the CLI
    page.waitForFunction(
        "n => [...document.querySelectorAll('#audit-body td[data-col=action]')]"
            + ".filter(td => td.textContent === 'pairing.code_created').length === n",
        before + 1,
        new Page.WaitForFunctionOptions().setTimeout(WAIT_MS));
    assertThat(page.textContent("#audit-tail")).isEqualTo("live");

    String v = verdict();
    assertThat(v).startsWith("ok: verified in this browser: ").matches("(?s).*head [0-9a-f]{64}$");
    assertThat(page.content()).doesNotContain(platform.token);

    // filters: only the chosen action, in the history and live
    page.fill("#audit-action", "pairing.code_created");
    page.click("#audit-apply");
    awaitLive();
    ok(admin, "pair", "create", "--json", "--workspace", "dev");
    page.waitForFunction(
        "n => document.querySelectorAll('#audit-body td[data-col=action]').length === n",
        before + 2,
        new Page.WaitForFunctionOptions().setTimeout(WAIT_MS));
    assertThat(rows("pairing.code_created")).isEqualTo(before + 2);
    page.fill("#audit-action", "");
    page.fill("#audit-from", "2001-01-01T00:00");
    page.fill("#audit-to", "2001-01-02T00:00");
    page.click("#audit-apply");
    awaitLive();
    assertThat(page.querySelectorAll("#audit-body tr")).isEmpty();
    assertThat(tab.console).noneMatch(m -> m.startsWith("pageerror"));
  }

  @Test
  void aTamperedChainFromAHostileAuditServiceIsReportedBrokenAndItsEntriesRenderAsText() {
    signInAndAwaitTheLiveTail();
    assertThat(verdict()).startsWith("ok: ");
    // a changed field: the event no longer hashes to its hash
    assertThat(withExport(lines -> edit(lines, 1, e -> e.put("target", "machine:forged"))))
        .startsWith("broken: BROKEN at seq 2 (")
        .contains(": hash_mismatch");
    // a deleted event: the sequence has a gap
    assertThat(
            withExport(
                lines -> {
                  lines.remove(1);
                  return lines;
                }))
        .contains("BROKEN at seq 2")
        .contains(": missing");
    // a replaced hash: the event does not hash to it
    assertThat(withExport(lines -> edit(lines, 0, e -> e.put("hash", "00".repeat(32)))))
        .contains("BROKEN at seq 1")
        .contains(": hash_mismatch");

    // the history of a hostile audit service: markup and control characters render as text
    Predicate<String> history = url -> url.contains("/audit/events?");
    tab.context.route(
        history,
        route -> {
          APIResponse real = route.fetch();
          JsonObject answer = new JsonObject(real.text());
          answer.getJsonArray("events").getJsonObject(0).put("target", HOSTILE_TARGET);
          route.fulfill(new Route.FulfillOptions().setResponse(real).setBody(answer.encode()));
        });
    try {
      page.click("#audit-apply");
      awaitLive();
      assertThat(page.locator("#audit-body td[data-col=target]").allTextContents())
          .contains(HOSTILE_TARGET.replace("\u0007", "\\u0007"));
      assertThat(page.evaluate("() => window.__pwned === undefined")).isEqualTo(true);
      assertThat(page.querySelectorAll("#audit-body img")).isEmpty();
    } finally {
      tab.context.unroute(history);
    }
  }

  /** The verdict on an export changed by {@code tamper} (one JSON event a line). */
  String withExport(UnaryOperator<List<String>> tamper) {
    Predicate<String> export = url -> url.contains("/audit/export?");
    tab.context.route(
        export,
        route -> {
          APIResponse real = route.fetch();
          List<String> lines = new ArrayList<>(List.of(real.text().split("\n")));
          lines.removeIf(String::isBlank);
          route.fulfill(
              new Route.FulfillOptions()
                  .setResponse(real)
                  .setBody(String.join("\n", tamper.apply(lines)) + "\n"));
        });
    try {
      return verdict();
    } finally {
      tab.context.unroute(export);
    }
  }

  static List<String> edit(List<String> lines, int i, UnaryOperator<JsonObject> change) {
    lines.set(i, change.apply(new JsonObject(lines.get(i))).encode());
    return lines;
  }
}
