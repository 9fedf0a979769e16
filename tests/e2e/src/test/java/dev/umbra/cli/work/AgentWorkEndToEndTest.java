package dev.umbra.cli.work;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Agent work through the real `umbra` commands (docs/agents.md) against a real control plane on
 * PostgreSQL and Redis: an agent enrolled on a paired machine raises an inbox item with `umbra
 * agent ask` and waits; an admin decides it with `umbra inbox decide`; the agent's command returns
 * the decision. Plans go through publish, comment, approve and show. The text of both is stored by
 * design, in its own tables only: never on the bus, in Redis or in a log line.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentWorkEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-agent-work-test-0123456789";
  CliHarness h;
  Path admin;
  Path machine;
  Traces traces;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    h = CliHarness.start("work", BOOTSTRAP, ServiceName.PAIRING);
    traces.watch(h);
    admin = h.trustedOwner();
    machine = h.machineWithAgent(admin, "bot");
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    h.close();
  }

  static String canary() {
    return Traces.canary("work");
  }

  @Test
  void anAgentWaitsForTheDecisionAMemberTakesFromTheCliAndGetsItAtOnce() throws Exception {
    String question = "delete the build directory? " + canary();
    CompletableFuture<UmbraRun> asking =
        CompletableFuture.supplyAsync(
            () ->
                umbra(
                    machine,
                    "agent",
                    "ask",
                    question,
                    "--default",
                    "deny",
                    "--deadline",
                    "600",
                    "--json"));
    JsonArray open =
        Eventually.until(
            "the agent's item is in the admin's inbox",
            Duration.ofSeconds(60),
            () -> ok(admin, "inbox", "list", "--status", "open", "--json").array(),
            a -> a.size() == 1);
    JsonObject item = open.getJsonObject(0);
    assertThat(item.getString("question")).isEqualTo(question);
    assertThat(item.getString("default")).isEqualTo("deny");
    assertThat(asking).isNotDone();

    assertThat(umbra(admin, "inbox", "decide", item.getString("id"), "maybe").code()).isEqualTo(1);
    long decidedAt = System.nanoTime();
    ok(admin, "inbox", "decide", item.getString("id"), "approve");
    UmbraRun asked = asking.get(60, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - decidedAt))
        .as("the waiting agent got the decision at once, not at its next poll")
        .isLessThan(Duration.ofSeconds(30));
    assertThat(asked.code()).as(asked.err()).isZero();
    JsonObject decided = asked.json();
    assertThat(decided.getString("status")).isEqualTo("decided");
    assertThat(decided.getString("answer")).isEqualTo("approve");
    assertThat(umbra(admin, "inbox", "decide", item.getString("id"), "deny").code()).isEqualTo(1);

    assertThat(traces.tablesHolding(question)).containsOnly("control_plane.inbox_items");
    assertThat(traces.outsideTables(question)).isEmpty();
    String target = "inbox_item:" + item.getString("id");
    assertThat(
            Eventually.until(
                "the raise and the decision are audited",
                Duration.ofSeconds(10),
                () -> audited(target),
                a -> a.size() >= 2))
        .containsExactly("inbox.item_raised:machine", "inbox.item_decided:member");
  }

  @Test
  void aPlanIsPublishedCommentedApprovedAndShownFromTheCli() throws Exception {
    String secret = canary();
    String body = "# Migrate\n\n" + secret + "\n";
    Path file = h.tmp.resolve("plan.md");
    Files.writeString(file, body);
    JsonObject published =
        ok(
                admin,
                "plans",
                "publish",
                "Migrate the database",
                "--body",
                file.toString(),
                "--step",
                "dump",
                "--step",
                "restore",
                "--json")
            .json();
    String id = published.getJsonObject("plan").getString("id");
    ok(admin, "plans", "comment", id, "check the restore time");
    JsonObject approved = ok(admin, "plans", "approve", id, "--json").json();
    assertThat(approved.getJsonObject("plan").getString("status")).isEqualTo("approved");
    JsonObject shown = ok(admin, "plans", "show", id, "--json").json();
    assertThat(shown.getJsonObject("shown").getString("body")).isEqualTo(body);
    assertThat(shown.getJsonObject("shown").getJsonArray("steps"))
        .containsExactly("dump", "restore");
    assertThat(shown.getJsonArray("comments")).hasSize(1);
    assertThat(ok(admin, "plans", "show", id).out()).contains("restore").contains("approve v1");
    assertThat(ok(admin, "plans", "list", "--json").array()).hasSize(1);

    assertThat(traces.tablesHolding(secret)).containsOnly("control_plane.plan_versions");
    assertThat(traces.outsideTables(secret)).isEmpty();
  }

  /**
   * The audit events sent about {@code target}, as {@code action:actor-kind}, read from the audit
   * ingest stream (no audit service runs here to consume it).
   */
  private List<String> audited(String target) throws Exception {
    List<String> out = new ArrayList<>();
    for (StreamEntry e : await(h.bus.range(BusNames.AUDIT_INGEST, "0-0", 10_000))) {
      AuditEvent a = AuditEvent.parseFrom(e.body().getBytes());
      if (a.getTarget().equals(target)) {
        out.add(
            a.getAction()
                + ":"
                + a.getActor().getKind().name().replace("ACTOR_KIND_", "").toLowerCase());
      }
    }
    return out;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
