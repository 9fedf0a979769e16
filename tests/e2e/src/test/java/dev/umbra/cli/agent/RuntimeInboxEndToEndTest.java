package dev.umbra.cli.agent;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.daemon.agent.AgentSessions;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An agent session's runtime asks the inbox through the daemon (docs/agents.md, "Inbox items from a
 * runtime"), end to end through the real `umbra` commands, a real relay and a real daemon: a
 * scripted runtime writes an {@code inbox_request}; the daemon raises it on the control plane with
 * its binding key; two watching clients see the request, the raise and, once a member decided it
 * with `umbra inbox decide`, the decision; the runtime continues on the answer. A plan is published
 * and approved meanwhile; the transcript is paged from the daemon. A canary in the prompt and in
 * the runtime's output is then only in the machine's transcript, while the question and the plan
 * text (stored by design) are only in {@code inbox_items} and {@code plan_versions}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RuntimeInboxEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-runtime-inbox-test-0123456789";

  /**
   * The scripted runtime: each prompt is echoed as output and asks the inbox whether to push (the
   * question comes from the test); an approval makes it continue, anything else stop; "bye" ends.
   */
  static String bot(String question) {
    return """
        #!/bin/sh
        echo '{"type":"status","state":"ready"}'
        while IFS= read -r line; do
          case "$line" in
            *'"type":"prompt"'*)
              text=$(printf '%s' "$line" | sed 's/.*"text":"\\(.*\\)"}$/\\1/')
              case "$text" in
                bye) echo '{"type":"output","text":"goodbye"}'; exit 0 ;;
                *) printf '{"type":"output","text":"working on: %s"}\\n' "$text"
                   echo '{"type":"inbox_request","id":"push","kind":"approve","question":"QUESTION","default":"deny","deadline_seconds":600}' ;;
              esac ;;
            *'"type":"inbox_decision"'*'"answer":"approve"'*) echo '{"type":"output","text":"approved: pushing"}' ;;
            *'"type":"inbox_decision"'*) echo '{"type":"output","text":"not pushing"}' ;;
          esac
        done
        """
        .replace("QUESTION", question);
  }

  AgentMachine m;
  CliHarness h;
  Traces traces;
  Path admin;
  Path laptop;
  Path machine;
  DaemonRelay relay;
  String question;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    question = "push the release tag? " + Traces.canary("question");
    m = AgentMachine.start("rtinbox", BOOTSTRAP, bot(question), false);
    h = m.h;
    traces.watch(h);
    admin = m.admin;
    laptop = m.laptop;
    machine = m.machine;
    relay = m.relay;
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    m.close();
  }

  static List<JsonObject> frames(UmbraRun run) {
    return AgentMachine.frames(run);
  }

  static CompletableFuture<UmbraRun> watch(Path home, String session, String until) {
    return AgentMachine.watch(home, session, until, 120);
  }

  JsonObject listed(String session) {
    return m.listed(session);
  }

  @Test
  void aRuntimeAsksTheInboxThroughTheDaemonAndContinuesOnTheMembersDecision() throws Exception {
    String secret = Traces.canary("prompt");
    UmbraRun started = ok(admin, "agent-session", "start", "local", "bot", "--detach", "--json");
    String session =
        new JsonObject(started.out().lines().findFirst().orElseThrow()).getString("session_id");
    CompletableFuture<UmbraRun> a = watch(admin, session, "approved: pushing");
    CompletableFuture<UmbraRun> b = watch(laptop, session, "approved: pushing");
    Eventually.until(
        "both clients watch",
        Duration.ofSeconds(60),
        AgentMachine.LIST_POLL,
        () -> listed(session),
        s -> s.getInteger("watchers") == 2);
    ok(
        admin,
        "agent-session",
        "attach",
        "local",
        session,
        "--prompt",
        "release " + secret,
        "--detach");

    // the runtime's question is in the inbox, raised by the machine for this session
    JsonObject item =
        Eventually.until(
                "the runtime's item is in the inbox",
                Duration.ofSeconds(60),
                () -> ok(laptop, "inbox", "list", "--status", "open", "--json").array(),
                x -> x.size() == 1)
            .getJsonObject(0);
    String machineId = relay.channels().get(0).target();
    assertThat(item.getString("question")).isEqualTo(question);
    assertThat(item.getString("default")).isEqualTo("deny");
    assertThat(item.getString("agent_id")).isNull();
    assertThat(item.getString("machine_id")).isEqualTo(machineId);
    assertThat(item.getString("session_id")).isEqualTo(session);
    assertThat(ok(admin, "inbox", "show", item.getString("id")).out())
        .contains("raised by agent session " + session + " on machine " + machineId);
    assertThat(a).as("the runtime waits for the decision").isNotDone();

    // a member decides from the CLI; the runtime continues, both watchers see it all
    assertThat(umbra(laptop, "inbox", "decide", item.getString("id"), "maybe").code()).isEqualTo(1);
    ok(laptop, "inbox", "decide", item.getString("id"), "approve");
    for (UmbraRun w : List.of(a.get(120, TimeUnit.SECONDS), b.get(120, TimeUnit.SECONDS))) {
      assertThat(w.code()).as(w.err()).isZero();
      List<JsonObject> seen = frames(w);
      assertThat(seen.stream().map(f -> f.getString("type")).toList())
          .containsSubsequence(
              "status",
              "prompt",
              "output",
              "inbox_request",
              "inbox_raised",
              "inbox_decision",
              "output");
      JsonObject raised = only(seen, "inbox_raised");
      assertThat(raised.getString("id")).isEqualTo("push");
      assertThat(raised.getString("item_id")).isEqualTo(item.getString("id"));
      JsonObject decision = only(seen, "inbox_decision");
      assertThat(decision.getString("status")).isEqualTo("decided");
      assertThat(decision.getString("answer")).isEqualTo("approve");
      assertThat(seen.get(seen.size() - 1).getString("text")).isEqualTo("approved: pushing");
      assertThat(seen.stream().mapToLong(f -> f.getLong("seq")).toArray())
          .isSorted()
          .doesNotHaveDuplicates();
    }
    assertThat(umbra(admin, "inbox", "decide", item.getString("id"), "deny").code())
        .as("decided once")
        .isEqualTo(1);

    // a plan is published for review and approved
    String planText = "# Release\n\n" + Traces.canary("plan") + "\n";
    Path file = h.tmp.resolve("plan.md");
    Files.writeString(file, planText);
    String plan =
        ok(laptop, "plans", "publish", "Release", "--body", file.toString(), "--json")
            .json()
            .getJsonObject("plan")
            .getString("id");
    assertThat(
            ok(admin, "plans", "approve", plan, "--json")
                .json()
                .getJsonObject("plan")
                .getString("status"))
        .isEqualTo("approved");

    // the end, then the transcript paged from the daemon: every frame, the inbox's among them
    UmbraRun end =
        umbra(admin, "agent-session", "attach", "local", session, "--prompt", "bye", "--json");
    assertThat(end.code()).as(end.err()).isZero();
    UmbraRun transcript =
        ok(laptop, "agent-session", "transcript", "local", session, "--all", "--json");
    List<JsonObject> all =
        transcript.out().lines().map(JsonObject::new).filter(f -> f.containsKey("seq")).toList();
    assertThat(all.stream().mapToLong(f -> f.getLong("seq")).toArray())
        .containsExactly(java.util.stream.LongStream.rangeClosed(1, all.size()).toArray());
    assertThat(only(all, "inbox_request").getString("question")).isEqualTo(question);
    assertThat(only(all, "inbox_decision").getString("answer")).isEqualTo("approve");

    // the prompt's canary is in the machine's 0600 transcript only
    Path dir = machine.resolve(AgentSessions.DIRECTORY).resolve(machineId).resolve(session);
    boolean inTranscript = false;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
            .isEqualTo("rw-------");
        inTranscript |= Files.readString(f).contains(secret);
      }
    }
    assertThat(inTranscript).isTrue();
    assertThat(traces.anywhere(secret)).as("places holding the prompt's canary").isEmpty();
    // the question and the plan, stored by design: in their tables, nowhere else
    assertThat(traces.tablesHolding(question)).containsOnly("control_plane.inbox_items");
    assertThat(traces.outsideTables(question)).isEmpty();
    assertThat(traces.tablesHolding(planText.strip())).containsOnly("control_plane.plan_versions");
    assertThat(traces.outsideTables(planText.strip())).isEmpty();
  }

  private static JsonObject only(List<JsonObject> frames, String type) {
    List<JsonObject> of = frames.stream().filter(f -> type.equals(f.getString("type"))).toList();
    assertThat(of).as(type).hasSize(1);
    return of.get(0);
  }
}
