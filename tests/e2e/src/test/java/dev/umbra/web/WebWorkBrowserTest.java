package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.daemon.audit.DaemonAudit;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Plans, the inbox and run records in the browser app (docs/web.md, "Plans, inbox, runs and
 * workflows") in real Chromium against a real control plane: a plan published from the CLI is read
 * in the page (its markdown shown as text, never markup) and approved there; an item an agent
 * raised with `umbra agent ask` is decided in the page and the waiting agent gets the answer; a
 * machine's run record is listed with its counts, and no page script fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebWorkBrowserTest {
  BrowserPlatform platform;
  Path machine;
  Traces traces;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    platform = BrowserPlatform.start("web-work", ServiceName.PAIRING);
    traces.watch(platform.h);
    machine = platform.h.machineWithAgent(platform.admin, "bot");
  }

  @AfterAll
  void stop() throws Exception {
    if (platform != null) {
      platform.close();
    }
  }

  @Test
  void aPlanIsApprovedAnItemDecidedAndARunListedFromThePage() throws Exception {
    Path admin = platform.admin;
    String body = "# Release\n\n<img src=x onerror=alert(1)> " + Traces.canary("webplan") + "\n";
    Path file = platform.h.tmp.resolve("plan.md");
    Files.writeString(file, body);
    String plan =
        ok(
                admin,
                "plans",
                "publish",
                "Release",
                "--body",
                file.toString(),
                "--step",
                "tag",
                "--json")
            .json()
            .getJsonObject("plan")
            .getString("id");
    CompletableFuture<UmbraRun> asking =
        CompletableFuture.supplyAsync(
            () ->
                umbra(
                    machine,
                    "agent",
                    "ask",
                    "push the tag?",
                    "--default",
                    "deny",
                    "--deadline",
                    "600",
                    "--json"));
    Eventually.until(
        "the agent's item is open",
        Duration.ofSeconds(60),
        () -> ok(admin, "inbox", "list", "--status", "open", "--json").array(),
        a -> a.size() == 1);
    reportARun();

    try (Tab t = platform.tab()) {
      platform.signIn(t);
      t.await("#plans:not([hidden]) #plans-body button[data-plan-open='" + plan + "']");
      t.page.click("#plans-body button[data-plan-open='" + plan + "']");
      t.await("#plan-detail[data-plan='" + plan + "'][data-status='in_review']");
      assertThat(t.page.textContent("#plan-body")).isEqualTo(body);
      assertThat(t.page.locator("#plan-body img").count()).as("markdown is text").isZero();
      assertThat(t.page.textContent("#plan-steps")).contains("tag");
      t.page.click("#plan-approve");
      t.await("#plan-detail[data-status='approved']");
      assertThat(
              ok(admin, "plans", "show", plan, "--json")
                  .json()
                  .getJsonObject("plan")
                  .getString("status"))
          .isEqualTo("approved");

      // the agent's question, decided in the page: the waiting agent gets the answer
      t.await("#inbox-body button[data-answer='approve']");
      assertThat(t.page.textContent("#inbox-body")).contains("push the tag?");
      t.page.click("#inbox-body button[data-answer='approve']");
      t.page.waitForFunction(
          "() => document.getElementById('inbox-decided').textContent === 'decided: approve'");
      UmbraRun asked = asking.get(60, TimeUnit.SECONDS);
      assertThat(asked.code()).as(asked.err()).isZero();
      assertThat(asked.json().getString("answer")).isEqualTo("approve");

      // the decided view: who decided what and when
      t.page.selectOption("#inbox-status", "decided");
      t.await("#inbox-body tr[data-status='decided'] td[data-col=decision]");
      assertThat(t.page.textContent("#inbox-body tr[data-status='decided'] td[data-col=decision]"))
          .startsWith("decided \"approve\" by " + ownerName() + " at ");

      // the run record, listed with its counts
      t.page.click("#runs-refresh");
      t.page.waitForFunction(
          "() => [...document.querySelectorAll('#runs-body td[data-col=what]')]"
              + ".some(td => td.textContent === 'bot')");
      assertThat(t.page.textContent("#runs-body")).contains("agent_session", "1234", "5678");
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  @Test
  void aPlanIsCommentedRevisedAndSharedFromThePageAndTheCliSeesIt() throws Exception {
    Path admin = platform.admin;
    String workspace =
        api("GET", "/v1/workspaces", null).getJsonArray("items").getJsonObject(0).getString("id");
    String team =
        api("POST", "/v1/workspaces/" + workspace + "/teams", new JsonObject().put("name", HOSTILE))
            .getString("id");
    Path file = platform.h.tmp.resolve("rollout.md");
    Files.writeString(file, "# Rollout\n\nfirst canary\n");
    String plan =
        ok(admin, "plans", "publish", HOSTILE + " Rollout", "--body", file.toString(), "--json")
            .json()
            .getJsonObject("plan")
            .getString("id");
    ok(admin, "plans", "comment", plan, "from the cli " + HOSTILE);
    String canary = Traces.canary("webcomment");
    String fromPage = "from the page " + canary;

    try (Tab t = platform.tab()) {
      platform.signIn(t);
      t.await("#plans-body button[data-plan-open='" + plan + "']");
      t.page.click("#plans-body button[data-plan-open='" + plan + "']");
      t.await("#plan-detail[data-plan='" + plan + "'][data-version='1']");
      assertThat(t.page.textContent("#plan-comments")).contains("from the cli " + HOSTILE);
      assertThat(t.page.textContent("#plan-title")).startsWith(HOSTILE);

      // a comment from the page, read by the CLI
      t.page.fill("#plan-comment", fromPage);
      t.page.click("#plan-comment-add");
      t.page.waitForFunction(
          "t => document.getElementById('plan-comments').textContent.includes(t)", fromPage);
      assertThat(
              ok(admin, "plans", "show", plan, "--json").json().getJsonArray("comments").encode())
          .contains(fromPage);
      // stored where comments are, by design, and nowhere else: no log line, bus message, Redis key
      assertThat(traces.tables(canary).found()).containsExactly("control_plane.plan_comments");
      assertThat(traces.outsideTables(canary)).isEmpty();

      // a new version from the page; what changed; the older version
      t.page.click("#plan-revise summary");
      t.page.click("#plan-edit");
      t.page.fill("#plan-new-body", "# Rollout\n\nsecond canary\n");
      t.page.fill("#plan-new-steps", "drain\nswitch");
      t.page.click("#plan-revise-submit");
      t.await("#plan-detail[data-version='2'][data-status='in_review']");
      JsonObject v2 = ok(admin, "plans", "show", plan, "--json").json();
      assertThat(v2.getJsonObject("plan").getInteger("version")).isEqualTo(2);
      assertThat(v2.getJsonObject("shown").getString("body"))
          .isEqualTo("# Rollout\n\nsecond canary\n");
      t.page.click("#plan-changes-button");
      t.page.waitForFunction(
          "() => document.getElementById('plan-changes').textContent.includes('+ 1. drain')");
      assertThat(t.page.textContent("#plan-changes")).contains("- first canary", "+ second canary");
      t.page.selectOption("#plan-version", "1");
      t.await("#plan-detail[data-version='1']");
      assertThat(t.page.textContent("#plan-body")).contains("first canary");

      // shared with a team (its hostile name shown as text), then not
      t.page.check("#plan-shares input[data-share-team='" + team + "']");
      Eventually.until(
          "the CLI sees the share",
          Duration.ofSeconds(20),
          () -> ok(admin, "plans", "show", plan, "--json").json().getJsonArray("team_ids"),
          a -> a.contains(team));
      t.await("#plan-shares input[data-share-team='" + team + "']:checked");
      assertThat(t.page.textContent("#plan-shares")).contains(HOSTILE);
      t.picture("#plans", "web-plans.png");
      t.page.uncheck("#plan-shares input[data-share-team='" + team + "']");
      Eventually.until(
          "the share is gone",
          Duration.ofSeconds(20),
          () -> ok(admin, "plans", "show", plan, "--json").json().getJsonArray("team_ids"),
          JsonArray::isEmpty);

      // hostile text anywhere in the panel made no element and ran nothing
      assertThat(t.page.locator("#plans img, #plans script").count()).isZero();
      assertThat(t.page.evaluate("() => window.__pwned === undefined")).isEqualTo(true);
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  @Test
  void anItemNobodyDecidesTakesItsDefaultAtTheDeadlineAndThePageSaysSo() throws Exception {
    JsonObject raised =
        ok(
                machine,
                "agent",
                "ask",
                "pick one",
                "--kind",
                "choose",
                "--option",
                HOSTILE,
                "--option",
                "safe",
                "--default",
                "safe",
                "--deadline",
                "10",
                "--no-wait",
                "--json")
            .json();
    String item = raised.getString("id");
    try (Tab t = platform.tab()) {
      platform.signIn(t);
      t.await("#inbox-body tr[data-item='" + item + "'] button[data-answer='safe']");
      assertThat(
              t.page.textContent("#inbox-body tr[data-item='" + item + "'] td[data-col=deadline]"))
          .isEqualTo(raised.getString("deadline"));
      assertThat(t.page.textContent("#inbox-body")).contains(HOSTILE);
      t.page.selectOption("#inbox-status", "expired");
      Eventually.until(
          "the item took its default at its deadline",
          Duration.ofSeconds(40),
          () -> {
            t.page.click("#inbox-refresh");
            t.page.waitForFunction(
                "() => document.getElementById('inbox-note').textContent !== ''");
            return t.page
                .locator("#inbox-body tr[data-item='" + item + "'][data-status='expired']")
                .count();
          },
          n -> n == 1);
      assertThat(
              t.page.textContent("#inbox-body tr[data-item='" + item + "'] td[data-col=decision]"))
          .startsWith("no decision by the deadline: took its default \"safe\"");
      assertThat(t.page.locator("#inbox img, #inbox script").count()).isZero();
      t.picture("#inbox", "web-inbox.png");
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  static final String HOSTILE = "<img src=x onerror=window.__pwned=1><b>x</b>";

  /** The owner's name, as the page shows a decider. */
  private String ownerName() throws Exception {
    return api("GET", "/v1/me", null).getString("name");
  }

  /** A control-plane call with the owner's API token (what the CLI has no command for). */
  private JsonObject api(String method, String path, JsonObject body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(platform.h.cpUrl + path))
            .header("authorization", "Bearer " + platform.token)
            .header("content-type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.encode()));
    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
      return new JsonObject(r.body());
    }
  }

  /** The paired machine reports an agent session's end: a run record of kind agent_session. */
  private void reportARun() throws Exception {
    BindingStore store = new BindingStore(machine);
    Binding b = store.list().get(0);
    new DaemonAudit(
            platform.h.vertx, new JsonHttp(), b, () -> store.signingKey(b), Clock.systemUTC())
        .report(DaemonAudit.Report.agentSessionEnded(0x2a, "bot", 0, 10, 1234, 5678))
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    JsonArray runs =
        Eventually.until(
            "the run is recorded",
            Duration.ofSeconds(30),
            () -> ok(platform.admin, "runs", "list", "--json").array(),
            a -> !a.isEmpty());
    assertThat(((JsonObject) runs.getValue(0)).getString("kind")).isEqualTo("agent_session");
  }
}
