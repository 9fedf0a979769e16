package dev.umbra.cli.agent;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.daemon.agent.AgentSessions;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A signed workflow whose step starts an agent session (docs/agents.md, "Agent steps"), end to end:
 * `umbra workflows run` asks the paired daemon over the relay, the step starts the configured
 * scripted runtime with the step's prompt (inputs substituted), the session's exit status is the
 * step's status, the run leaves its workflow run record and the session its own, and the runtime's
 * output — a canary — is only in the machine's transcript, nowhere on the platform.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkflowAgentStepEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-agent-step-test-0123456789";
  static final Pattern SESSION = Pattern.compile("agent session (\\d{8}T\\d{6}Z-[0-9a-f]{12})");

  /** Answers the first prompt and exits: 4 when the prompt says "fail", 0 otherwise. */
  static String bot(String secret) {
    return """
        #!/bin/sh
        echo '{"type":"status","state":"ready"}'
        while IFS= read -r line; do
          case "$line" in
            *'"type":"prompt"'*fail*) echo '{"type":"output","text":"cannot"}'; exit 4 ;;
            *'"type":"prompt"'*)
              text=$(printf '%s' "$line" | sed 's/.*"text":"\\(.*\\)"}$/\\1/')
              printf '{"type":"output","text":"did %s SECRET"}\\n' "$text"
              exit 0 ;;
          esac
        done
        """
        .replace("SECRET", secret);
  }

  static final String YAML =
      """
      name: agentic
      inputs:
        task:
          default: tidy
      steps:
        - id: think
          machine: local
          agent: bot
          prompt: "please ${inputs.task}"
          timeout_seconds: 120
        - id: after
          machine: local
          run: [echo, after-the-agent]
      """;

  Traces traces;
  AgentMachine m;
  String secret;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    secret = Traces.canary("agent-output");
    m = AgentMachine.start("agentstep", BOOTSTRAP, bot(secret), true);
    traces.watch(m.h);
    Path file = m.h.tmp.resolve("agentic.yaml");
    Files.writeString(file, YAML);
    ok(m.admin, "workflows", "put", file.toString());
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    m.close();
  }

  @Test
  void anAgentStepRunsASessionWhoseExitIsTheStepsStatusAndLeavesRecordsWithoutItsTranscript()
      throws Exception {
    UmbraRun ran = umbra(m.admin, "workflows", "run", "agentic");
    assertThat(ran.code()).as(ran.err()).isZero();
    assertThat(ran.err())
        .contains("step think: succeeded (exit 0)")
        .contains("step after: succeeded");
    assertThat(ran.out()).contains("after-the-agent");
    Matcher named = SESSION.matcher(ran.err());
    assertThat(named.find()).as(ran.err()).isTrue();
    String session = named.group(1);

    // the session is a session like any: listed, its transcript paged from the daemon
    assertThat(m.listed(session).getString("runtime")).isEqualTo("bot");
    List<JsonObject> frames =
        ok(m.laptop, "agent-session", "transcript", "local", session, "--all", "--json")
            .out()
            .lines()
            .map(JsonObject::new)
            .filter(f -> f.containsKey("seq"))
            .toList();
    assertThat(frames.stream().map(f -> f.getString("type")).toList())
        .containsSubsequence("prompt", "output");
    assertThat(frames)
        .anySatisfy(f -> assertThat(f.getString("text", "")).isEqualTo("please tidy"))
        .anySatisfy(
            f -> assertThat(f.getString("text", "")).isEqualTo("did please tidy " + secret));

    // two run records: the workflow's (the step's status and counts) and the session's
    JsonArray runs =
        Eventually.until(
            "the run and the session left their records",
            Duration.ofSeconds(60),
            () -> ok(m.admin, "runs", "list", "--json").array(),
            a -> pair(a) != null);
    JsonObject[] both = pair(runs);
    JsonObject workflow = both[0];
    JsonObject agent = both[1];
    assertThat(workflow.getString("outcome")).isEqualTo("success");
    JsonObject think =
        ok(m.admin, "runs", "show", workflow.getString("id"), "--json")
            .json()
            .getJsonObject("workflow")
            .getJsonArray("steps")
            .getJsonObject(0);
    assertThat(think.getString("id")).isEqualTo("think");
    assertThat(think.getString("status")).isEqualTo("succeeded");
    assertThat(think.getLong("bytes_in")).as("the first prompt").isPositive();
    assertThat(think.getLong("bytes_out")).as("the runtime's lines").isPositive();
    assertThat(agent.getString("runtime")).isEqualTo("bot");
    assertThat(agent.getString("channel")).isEqualTo(workflow.getString("channel"));
    assertThat(agent.getInteger("exit_status")).isZero();

    // the runtime's output is in the machine's transcript only
    Path dir = m.machine.resolve(AgentSessions.DIRECTORY).resolve(m.machineId()).resolve(session);
    boolean inTranscript = false;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        inTranscript |= Files.readString(f).contains(secret);
      }
    }
    assertThat(inTranscript).isTrue();
    assertThat(traces.anywhere(secret)).as("places holding the runtime's output").isEmpty();
  }

  @Test
  void aSessionThatExitsNonZeroFailsItsStepAndStopsTheStepsAfterIt() {
    UmbraRun ran = umbra(m.admin, "workflows", "run", "agentic", "--input", "task=fail");
    assertThat(ran.code()).isEqualTo(1);
    assertThat(ran.err()).contains("step think: failed (exit 4)").contains("step after: skipped");
    assertThat(ran.out()).doesNotContain("after-the-agent");
  }

  /**
   * The successful workflow run and the agent session started on its channel, or null while either
   * has no record yet.
   */
  private static JsonObject[] pair(JsonArray runs) {
    List<JsonObject> all = runs.stream().map(JsonObject.class::cast).toList();
    for (JsonObject w : all) {
      if ("workflow".equals(w.getString("kind")) && "success".equals(w.getString("outcome"))) {
        for (JsonObject a : all) {
          if ("agent_session".equals(a.getString("kind"))
              && w.getString("channel").equals(a.getString("channel"))) {
            return new JsonObject[] {w, a};
          }
        }
      }
    }
    return null;
  }
}
