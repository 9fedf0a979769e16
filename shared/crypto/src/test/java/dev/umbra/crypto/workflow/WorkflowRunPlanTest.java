package dev.umbra.crypto.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How one run of a workflow is cut across machines and how each machine checks the part it is asked
 * to run (docs/agents.md, "Workflow runs").
 */
class WorkflowRunPlanTest {
  static final WorkflowDefinition D =
      WorkflowDefinition.parse(
          """
          name: relay-race
          steps:
            - id: build
              machine: box-a
              run: [make]
            - id: lint
              machine: box-a
              run: [lint]
              continue_on_failure: true
            - id: deploy
              machine: box-b
              run: [deploy]
            - id: notify
              machine: box-a
              run: [notify]
              if: always()
            - id: rollback
              machine: box-a
              run: [rollback]
              if: failure()
          """);

  @Test
  void consecutiveStepsOfOneMachineAreOneSegment() {
    assertThat(WorkflowRunPlan.segments(D))
        .containsExactly(
            new WorkflowRunPlan.Segment("box-a", 0, List.of("build", "lint")),
            new WorkflowRunPlan.Segment("box-b", 2, List.of("deploy")),
            new WorkflowRunPlan.Segment("box-a", 3, List.of("notify", "rollback")));
  }

  @Test
  void earlierStatusesDecideConditionsAsOnOneMachine() {
    assertThat(WorkflowRunPlan.failedBefore(D, Map.of("build", "succeeded"))).isFalse();
    assertThat(WorkflowRunPlan.failedBefore(D, Map.of("build", "succeeded", "lint", "failed")))
        .as("lint continues on failure")
        .isFalse();
    assertThat(WorkflowRunPlan.failedBefore(D, Map.of("build", "skipped"))).isFalse();
    for (String failing : List.of("failed", "timed_out", "not_started", "not_run")) {
      assertThat(WorkflowRunPlan.failedBefore(D, Map.of("build", "succeeded", "deploy", failing)))
          .as(failing)
          .isTrue();
    }
  }

  @Test
  void aMachineRunsOnlyConsecutiveStepsNamingItGivenEveryEarlierStatus() {
    Set<String> a = Set.of("box-a", "7d1c0a58-0000-4000-8000-000000000001");
    Map<String, String> before =
        Map.of("build", "succeeded", "lint", "failed", "deploy", "not_run");
    WorkflowRunPlan.check(D, List.of("build", "lint"), Map.of(), a);
    WorkflowRunPlan.check(D, List.of("notify", "rollback"), before, a);
    WorkflowRunPlan.check(D, List.of("notify"), before, a);
    WorkflowRunPlan.check(
        D, List.of("deploy"), Map.of("build", "succeeded", "lint", "failed"), Set.of("box-b"));
  }

  @Test
  void anythingElseIsRefused() {
    Set<String> a = Set.of("box-a");
    Map<String, String> before = Map.of("build", "succeeded", "lint", "failed");
    for (var bad :
        List.<Runnable>of(
            () -> WorkflowRunPlan.check(D, List.of(), Map.of(), a),
            () -> WorkflowRunPlan.check(D, List.of("deploy"), before, a),
            () -> WorkflowRunPlan.check(D, List.of("build", "notify"), Map.of(), a),
            () -> WorkflowRunPlan.check(D, List.of("lint", "build"), Map.of(), a),
            () -> WorkflowRunPlan.check(D, List.of("nope"), Map.of(), a),
            () -> WorkflowRunPlan.check(D, List.of("lint"), Map.of(), a),
            () -> WorkflowRunPlan.check(D, List.of("build"), Map.of("deploy", "failed"), a),
            () ->
                WorkflowRunPlan.check(
                    D,
                    List.of("notify"),
                    Map.of("build", "succeeded", "lint", "failed", "deploy", "exploded"),
                    a),
            () ->
                WorkflowRunPlan.check(
                    D, List.of("deploy"), Map.of("build", "succeeded", "lint", "failed"), a))) {
      assertThatThrownBy(bad::run).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
