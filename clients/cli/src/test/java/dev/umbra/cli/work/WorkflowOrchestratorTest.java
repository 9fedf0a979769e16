package dev.umbra.cli.work;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.workflow.WorkflowDefinition;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How the member's client runs one workflow across machines (docs/agents.md, "Workflow runs"): whom
 * it asks, in which order, with what, and what a refusal or an unreachable machine does to the
 * steps after it. The machines here are scripted answers to the requests the client sends.
 */
class WorkflowOrchestratorTest {
  static final WorkflowDefinition D =
      WorkflowDefinition.parse(
          """
          name: relay-race
          inputs:
            env:
              default: staging
          steps:
            - id: build
              machine: box-a
              run: [make]
            - id: deploy
              machine: box-b
              run: [deploy, "${inputs.env}"]
            - id: notify
              machine: box-a
              run: [notify]
              if: always()
            - id: celebrate
              machine: box-a
              run: [party]
          """);
  static final String RUN = "01JF" + "0".repeat(21) + "R";

  /** Every request sent, as {@code machine: request}. */
  final List<String> asked = new ArrayList<>();

  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  static JsonObject end(String outcome, String reason, String... statuses) {
    JsonObject steps = new JsonObject();
    for (int i = 0; i < statuses.length; i += 2) {
      steps.put(statuses[i], statuses[i + 1]);
    }
    return new JsonObject()
        .put("outcome", outcome)
        .put("reason", reason)
        .put("message", "")
        .put("steps", steps);
  }

  WorkflowOrchestrator.Result run(Map<String, JsonObject> answers) {
    return WorkflowOrchestrator.run(
        D,
        4,
        RUN,
        Map.of("env", "prod"),
        Map.of("env", "prod"),
        (machine, part) -> {
          asked.add(machine + ": " + part.encode());
          JsonObject a = answers.get(machine + ":" + part.getJsonArray("steps").getString(0));
          if (a == null) {
            throw new IOException("machine offline");
          }
          return a;
        },
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void eachMachineIsAskedItsStepsInOrderWithTheRunsVersionIdAndEarlierStatuses() {
    var r =
        run(
            Map.of(
                "box-a:build", end("success", "", "build", "succeeded"),
                "box-b:deploy", end("success", "", "deploy", "succeeded"),
                "box-a:notify",
                    end("success", "", "notify", "succeeded", "celebrate", "succeeded")));
    assertThat(r.success()).isTrue();
    assertThat(r.statuses())
        .containsExactly(
            Map.entry("build", "succeeded"),
            Map.entry("deploy", "succeeded"),
            Map.entry("notify", "succeeded"),
            Map.entry("celebrate", "succeeded"));
    assertThat(asked)
        .containsExactly(
            "box-a: {\"name\":\"relay-race\",\"version\":4,\"run_id\":\""
                + RUN
                + "\",\"inputs\":{\"env\":\"prod\"},\"steps\":[\"build\"],\"prior\":{}}",
            "box-b: {\"name\":\"relay-race\",\"version\":4,\"run_id\":\""
                + RUN
                + "\",\"inputs\":{\"env\":\"prod\"},\"steps\":[\"deploy\"],"
                + "\"prior\":{\"build\":\"succeeded\"}}",
            "box-a: {\"name\":\"relay-race\",\"version\":4,\"run_id\":\""
                + RUN
                + "\",\"inputs\":{\"env\":\"prod\"},\"steps\":[\"notify\",\"celebrate\"],"
                + "\"prior\":{\"build\":\"succeeded\",\"deploy\":\"succeeded\"}}");
  }

  @Test
  void aRefusingMachineFailsTheRunAtItsStepsAndLaterStepsObeyTheirConditions() {
    var r =
        run(
            Map.of(
                "box-a:build", end("success", "", "build", "succeeded"),
                "box-b:deploy", end("refused", "bad_signature"),
                "box-a:notify", end("success", "", "notify", "succeeded", "celebrate", "skipped")));
    assertThat(r.success()).isFalse();
    assertThat(r.reason()).isEqualTo("bad_signature");
    assertThat(r.statuses()).containsEntry("deploy", "not_run");
    assertThat(asked.get(2)).contains("\"prior\":{\"build\":\"succeeded\",\"deploy\":\"not_run\"}");
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("step deploy: not_run (machine box-b)");
  }

  @Test
  void anUnreachableMachineIsATypedFailureAndTheClientMarksWhatWouldNotHaveRun() {
    var r = run(Map.of("box-a:build", end("success", "", "build", "succeeded")));
    assertThat(r.success()).isFalse();
    assertThat(r.reason()).isEqualTo(WorkflowOrchestrator.MACHINE_UNREACHABLE);
    // box-a is reachable for build only in this script: notify (always) would have run, celebrate
    // (success) would not
    assertThat(r.statuses())
        .containsExactly(
            Map.entry("build", "succeeded"),
            Map.entry("deploy", "not_run"),
            Map.entry("notify", "not_run"),
            Map.entry("celebrate", "skipped"));
  }

  @Test
  void aFailedStepFailsTheRunEvenWhenEveryMachineAnswered() {
    var r =
        run(
            Map.of(
                "box-a:build", end("failure", "step_failed", "build", "failed"),
                "box-b:deploy", end("success", "", "deploy", "skipped"),
                "box-a:notify", end("success", "", "notify", "succeeded", "celebrate", "skipped")));
    assertThat(r.success()).isFalse();
    assertThat(r.reason()).isEqualTo("step_failed");
    assertThat(asked.get(1)).contains("\"prior\":{\"build\":\"failed\"}");
  }
}
