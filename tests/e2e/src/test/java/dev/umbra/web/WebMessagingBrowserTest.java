package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Owner ↔ agent messaging in the browser app (docs/web.md "Messaging") in real Chromium: a browser
 * approved by the CLI is a messaging device of its member; it sends a canary to an agent enrolled
 * on a paired machine and approved by code, the agent (`umbra agent recv` / `send`) reads it and
 * replies, the page shows the reply live and each message once; replayed and tampered copies are
 * refused and never shown; a control plane that swaps a prekey bundle's signed prekey is refused in
 * the page; neither text reaches any table (audit records included), Redis key, bus message or log
 * line; and the messaging vectors (x3dh.json, double-ratchet.json, Wycheproof XChaCha20-Poly1305)
 * replay in the page byte for byte.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebMessagingBrowserTest {
  static final long WAIT_MS = 30_000;

  BrowserPlatform platform;
  CliHarness h;
  Path machine;
  String agentId;
  Traces traces;
  final List<String> canaries = new CopyOnWriteArrayList<>();
  Tab owner;
  final List<String> socketFrames = new CopyOnWriteArrayList<>();
  String answer; // the agent's last reply, pushed to the page over its socket

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    platform = BrowserPlatform.start("webmsg", ServiceName.PAIRING, ServiceName.AUDIT);
    h = platform.h;
    traces.watch(h);
    machine = h.tmp.resolve("machine");
    h.pairMachine(platform.admin, machine);
    JsonObject enrolled = CliHarness.enrolAgent(machine, "bot");
    agentId = enrolled.getString("agent_id");
    CliHarness.approveAgent(platform.admin, "bot", enrolled);
    ok(machine, "agent", "recv"); // the agent's first run after approval publishes its prekeys
    ok(
        platform.admin,
        "msg",
        "read"); // the CLI's device publishes its own (the agent writes to it)
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    if (owner != null) {
      owner.close();
    }
    if (platform != null) {
      platform.close();
    }
  }

  String canary(String what) {
    String c = Traces.canary("webmsg-" + what);
    canaries.add(c);
    return c;
  }

  /** Opens the conversation with the agent once the page's socket is live. */
  void openConversation(Tab t) {
    t.page.click(
        "#agents-body tr[data-agent='" + agentId + "'] button[data-open]",
        new Page.ClickOptions().setTimeout(WAIT_MS));
    t.page.waitForSelector(
        "#messages-live[data-state=live]", new Page.WaitForSelectorOptions().setTimeout(WAIT_MS));
  }

  void send(Tab t, String text) {
    t.page.fill("#message-text", text);
    t.page.click("#message-send");
    awaitMessage(t, "me", text);
  }

  /** Waits until the page shows {@code text} from {@code from} ({@code me} or {@code agent}). */
  static void awaitMessage(Tab t, String from, String text) {
    t.page.waitForFunction(
        "([f, x]) => [...document.querySelectorAll('#messages-list li[data-from=' + f + ']')]"
            + ".some(li => li.textContent.endsWith(': ' + x))",
        List.of(from, text),
        new Page.WaitForFunctionOptions().setTimeout(WAIT_MS));
  }

  /** How many times the page shows {@code text} in the open conversation. */
  static int shownTimes(Tab t, String text) {
    return ((Number)
            t.page.evaluate(
                "x => [...document.querySelectorAll('#messages-list li')]"
                    + ".filter(li => li.textContent.endsWith(': ' + x)).length",
                text))
        .intValue();
  }

  @Test
  @Order(1)
  void aTrustedBrowserSendsToAnAgentAndShowsItsReplyLiveOnce() throws Exception {
    owner = platform.tab();
    owner.page.onWebSocket(ws -> ws.onFrameReceived(f -> socketFrames.add(f.text())));
    platform.trustedBrowser(owner, "messaging browser");
    openConversation(owner);

    String toAgent = canary("to-agent");
    send(owner, toAgent);
    JsonArray got = ok(machine, "agent", "recv", "--json").array();
    assertThat(got).hasSize(1);
    assertThat(got.getJsonObject(0).getString("text")).isEqualTo(toAgent);
    String account = got.getJsonObject(0).getString("account_id");

    String toOwner = canary("to-owner");
    ok(
        machine, "agent", "send", account,
        toOwner); // to every device of the member: this browser too
    awaitMessage(owner, "agent", toOwner);
    assertThat(ok(platform.admin, "msg", "read").out()).contains("bot: " + toOwner);

    // a second round on the established sessions: ratchet messages both ways
    String again = canary("again");
    send(owner, again);
    assertThat(ok(machine, "agent", "recv").out()).contains(again);
    answer = canary("answer");
    ok(machine, "agent", "send", account, answer);
    awaitMessage(owner, "agent", answer);

    // a reload keeps the conversation (sealed in IndexedDB) and shows each message once
    owner.page.reload();
    owner.page.fill("#token", platform.token);
    owner.page.click("#signin-submit");
    owner.page.waitForSelector(
        "#device-status[data-status=trusted]",
        new Page.WaitForSelectorOptions().setTimeout(WAIT_MS));
    openConversation(owner);
    awaitMessage(owner, "agent", answer);
    for (String c : List.of(toAgent, toOwner, again, answer)) {
      assertThat(shownTimes(owner, c)).as(c).isEqualTo(1);
    }
    assertThat(owner.page.textContent("#messages-refused")).isEmpty();
    sendSeveralWhileOneIsUnderWay();
    assertThat(owner.console).noneMatch(m -> m.startsWith("pageerror"));
  }

  /**
   * Texts sent while an earlier send is under way go together in one {@code POST /messages/batch},
   * each its own message, in order (docs/messaging.md, "Batches"); the page's socket asked for
   * {@code messages} frames and got no single ones.
   */
  void sendSeveralWhileOneIsUnderWay() {
    List<Route> held = new java.util.ArrayList<>();
    List<String> posts = new CopyOnWriteArrayList<>();
    owner.page.onRequest(
        r -> {
          if (r.method().equals("POST") && r.url().contains("/messages")) {
            posts.add(r.url().replaceAll("^.*/messages", "/messages"));
          }
        });
    owner.page.route(
        u -> u.endsWith("/messages"),
        route -> {
          if (route.request().method().equals("POST") && held.isEmpty()) {
            held.add(route); // the first send stays under way until the others are queued
          } else {
            route.resume();
          }
        });
    List<String> texts = List.of(canary("one"), canary("two"), canary("three"));
    owner.page.fill("#message-text", texts.get(0));
    owner.page.click("#message-send");
    owner.page.waitForCondition(() -> !held.isEmpty());
    for (String t : texts.subList(1, 3)) {
      owner.page.fill("#message-text", t);
      owner.page.click("#message-send");
    }
    held.getFirst().resume();
    texts.forEach(t -> awaitMessage(owner, "me", t));
    owner.page.unroute(u -> u.endsWith("/messages"));
    assertThat(posts).containsSubsequence("/messages", "/messages/batch");
    JsonArray got = ok(machine, "agent", "recv", "--json").array();
    assertThat(got.stream().map(m -> ((JsonObject) m).getString("text")).toList())
        .containsExactlyElementsOf(texts);
    assertThat(socketFrames)
        .map(f -> new JsonObject(f).getString("type"))
        .contains("messages")
        .doesNotContain("message");
  }

  /**
   * The control plane serves the page a copy it already delivered under a new id (a replay) and one
   * with its last byte flipped (tampered): both are refused, acknowledged and never shown.
   */
  @Test
  @Order(2)
  void replayedAndTamperedCopiesAreRefusedAndNeverShown() {
    String answerId =
        owner
            .page
            .locator("#messages-list li[data-from=agent]")
            .filter(new com.microsoft.playwright.Locator.FilterOptions().setHasText(answer))
            .getAttribute("data-id");
    JsonObject pushed =
        socketFrames.stream()
            .map(JsonObject::new)
            .filter(f -> "messages".equals(f.getString("type")))
            .flatMap(f -> f.getJsonArray("messages").stream().map(JsonObject.class::cast))
            .filter(m -> answerId.equals(m.getString("id")))
            .findFirst()
            .orElseThrow(() -> new AssertionError("the reply was not pushed over the socket"));
    // the header's counter one ahead (framing byte, version, key, pn, then n): another message key
    byte[] bytes = Base64.getDecoder().decode(pushed.getString("ciphertext"));
    bytes[1 + 1 + 32 + 4 + 3] += 1;
    String replayId = UUID.randomUUID().toString();
    String tamperedId = UUID.randomUUID().toString();
    JsonArray items =
        new JsonArray()
            .add(pushed.copy().put("id", replayId))
            .add(
                pushed
                    .copy()
                    .put("id", tamperedId)
                    .put("ciphertext", Base64.getEncoder().encodeToString(bytes)));
    int before = owner.page.locator("#messages-list li").count();
    owner.context.route(
        "**/v1/workspaces/*/messages?*",
        route ->
            route.fulfill(
                new Route.FulfillOptions()
                    .setStatus(200)
                    .setContentType("application/json")
                    .setBody(new JsonObject().put("items", items).putNull("next_after").encode())));
    // the tab comes back to the foreground: reconnect and fetch what is pending
    owner.page.evaluate("() => document.dispatchEvent(new Event('visibilitychange'))");
    owner.page.waitForFunction(
        "ids => ids.every(id => document.getElementById('messages-refused').textContent.includes(id))",
        List.of(replayId, tamperedId),
        new Page.WaitForFunctionOptions().setTimeout(WAIT_MS));
    String notes = owner.page.textContent("#messages-refused");
    assertThat(notes)
        .contains("message " + replayId + " refused: REPLAYED")
        .contains("message " + tamperedId + " refused: BAD_TAG")
        .contains("not shown");
    assertThat(owner.page.locator("#messages-list li").count()).isEqualTo(before);
    owner.context.unrouteAll();
  }

  /**
   * A hostile control plane that serves a prekey bundle whose signed prekey it swapped (the
   * signature no longer covers it) gets nothing from a browser that has no session yet with the
   * agent: the page refuses the bundle before it encrypts, and the agent receives nothing.
   */
  @Test
  @Order(3)
  void aSwappedSignedPrekeyInTheBundleIsRefusedInThePage() throws Exception {
    try (Tab t = platform.tab()) {
      t.context.route(
          "**/v1/workspaces/*/prekeys/*",
          route -> {
            com.microsoft.playwright.APIResponse real = route.fetch();
            JsonObject bundle = new JsonObject(real.text());
            byte[] spk = Base64.getDecoder().decode(bundle.getString("signed_prekey"));
            spk[20] ^= 1; // u32 id, u64 created, u64 expires, then the X25519 key
            bundle.put("signed_prekey", Base64.getEncoder().encodeToString(spk));
            route.fulfill(new Route.FulfillOptions().setResponse(real).setBody(bundle.encode()));
          });
      platform.trustedBrowser(t, "second browser");
      openConversation(t);
      String refused = canary("swapped-prekey");
      t.page.fill("#message-text", refused);
      t.page.click("#message-send");
      t.page.waitForFunction(
          "() => document.getElementById('messages-error').textContent.includes('BAD_SIGNATURE')",
          null,
          new Page.WaitForFunctionOptions().setTimeout(WAIT_MS));
      assertThat(shownTimes(t, refused)).isZero();
      assertThat(ok(machine, "agent", "recv", "--json").array()).isEmpty();
    }
  }

  /** Every text of this class's tests: in no table, Redis key, bus message or log line. */
  @Test
  @Order(4)
  void noCanarySentOrReceivedInThePageReachesAnyServerSideStore() throws Exception {
    assertThat(canaries).hasSizeGreaterThanOrEqualTo(4);
    Map<String, List<String>> rows = h.pg.rowsAsText();
    assertThat(rows.keySet()).anyMatch(table -> table.startsWith("audit."));
    assertThat(traces.busSeen()).as("audit events crossed the bus").isNotEmpty();
    assertThat(traces.anywhere(canaries.toArray(String[]::new))).isEmpty();
  }

  /**
   * The reconnect rules in the page, scaled down: a socket that cannot connect falls back to
   * polling, and both a timer gap over 120 s (sleep) and the tab coming to the foreground force a
   * reconnect and a fetch; a smaller gap does not.
   */
  @Test
  void withoutASocketThePagePollsAndAWakeOrForegroundingReconnectsAndFetches() throws Exception {
    Map<String, Object> r = inThePage("messaging-live-rules.js", null);
    assertThat(((Number) r.get("polled")).intValue()).isGreaterThanOrEqualTo(3);
    assertThat((String) r.get("wakeState"))
        .isEqualTo("connecting: timer gap of 121 s (sleep?): reconnecting");
    assertThat(r.get("visibility")).isEqualTo("visible");
    assertThat(((Number) r.get("visibleState")).intValue()).isGreaterThanOrEqualTo(1);
    assertThat((String) r.get("quiet")).doesNotContain("timer gap of 60");
  }

  @Test
  void theMessagingConformanceVectorsReplayInThePage() throws Exception {
    Map<String, Object> r = replay(null);
    assertThat(r.get("failures")).asList().isEmpty();
    assertThat(((Number) r.get("checked")).intValue()).isGreaterThan(30);
  }

  /**
   * Wycheproof's XChaCha20-Poly1305 file in the page's own implementation; skipped, loudly, when
   * the official vectors are not beside the checkout (as the Java vector tests are).
   */
  @Test
  void theWycheproofXChaCha20Poly1305VectorsReplayInThePage() throws Exception {
    String dir = System.getProperty("umbra.vectors.dir");
    Path file = dir == null ? null : Path.of(dir, "wycheproof", "xchacha20_poly1305_test.json");
    if (file == null || !Files.isRegularFile(file)) {
      String message =
          "SKIPPED: wycheproof/xchacha20_poly1305_test.json not found (umbra.vectors.dir="
              + dir
              + "); the page's XChaCha20-Poly1305 was NOT checked against the official vectors";
      System.err.println("[web-messaging] " + message);
      Assumptions.abort(message);
    }
    Map<String, Object> r = replay(Files.readString(file));
    assertThat(r.get("failures")).asList().isEmpty();
    int tests = ((Number) r.get("aeadTests")).intValue();
    System.out.println(
        "[web-messaging] wycheproof xchacha20_poly1305: " + tests + " tests replayed");
    assertThat(tests).isGreaterThan(300);
  }

  Map<String, Object> replay(String wycheproof) throws Exception {
    Path dir = Path.of("../../shared/crypto/conformance");
    Map<String, String> files = new HashMap<>();
    for (String f : List.of("x3dh.json", "double-ratchet.json")) {
      files.put(f, Files.readString(dir.resolve(f)));
    }
    if (wycheproof != null) {
      files.put("wycheproof", wycheproof);
    }
    return inThePage("messaging-conformance-replay.js", files);
  }

  /** Runs a test resource's function in a fresh tab of the app (modules with their SRI hashes). */
  Map<String, Object> inThePage(String resource, Object arg) throws Exception {
    try (Tab t = platform.tab()) {
      t.page.navigate(h.cpUrl + "/app/");
      t.page.waitForFunction("() => document.body.dataset.state === 'signed-out'");
      @SuppressWarnings("unchecked")
      Map<String, Object> r =
          (Map<String, Object>) t.page.evaluate(BrowserPlatform.resource(resource), arg);
      return r;
    }
  }
}
