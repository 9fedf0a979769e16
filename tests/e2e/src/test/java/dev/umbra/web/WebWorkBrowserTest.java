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
 * Plans, the inbox and run records in the browser app (docs/web.md, "Plans, inbox and runs") in
 * real Chromium against a real control plane: a plan published from the CLI is read in the page
 * (its markdown shown as text, never markup) and approved there; an item an agent raised with
 * `umbra agent ask` is decided in the page and the waiting agent gets the answer; a machine's run
 * record is listed with its counts, and no page script fails.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebWorkBrowserTest {
  BrowserPlatform platform;
  Path machine;

  @BeforeAll
  void start() throws Exception {
    platform = BrowserPlatform.start("web-work", ServiceName.PAIRING);
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

      // the run record, listed with its counts
      t.page.click("#runs-refresh");
      t.page.waitForFunction(
          "() => [...document.querySelectorAll('#runs-body td[data-col=what]')]"
              + ".some(td => td.textContent === 'bot')");
      assertThat(t.page.textContent("#runs-body")).contains("agent_session", "1234", "5678");
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
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
