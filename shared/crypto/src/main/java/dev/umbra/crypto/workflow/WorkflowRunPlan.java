package dev.umbra.crypto.workflow;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rules of one run of a workflow whose steps name several machines (docs/agents.md, "Workflow
 * runs"), shared by the client that orchestrates it and every daemon that runs a part of it, so
 * that both read a definition the same way: the run is cut into {@link #segments} (consecutive
 * steps naming one machine), each segment is asked of its machine with the statuses of every step
 * before it, and a condition ({@code success()}, {@code failure()}, ...) sees {@link #failedBefore}
 * computed from those statuses exactly as if one machine had run them all.
 */
public final class WorkflowRunPlan {
  /**
   * The status the client gives a step whose machine refused the run or could not be reached: it
   * counts as a failure. Never in a machine's report: no machine ran it.
   */
  public static final String NOT_RUN = "not_run";

  /** Statuses of a step that count as a failure (unless it continues on failure). */
  private static final Set<String> FAILING = Set.of("failed", "timed_out", "not_started", NOT_RUN);

  private WorkflowRunPlan() {}

  /** Consecutive steps naming one machine, as the definition names it (a name or an id). */
  public record Segment(String machine, int first, List<String> steps) {
    public Segment {
      steps = List.copyOf(steps);
    }
  }

  /** The run's segments, in order: A, A, B, A gives [A: 2 steps], [B: 1], [A: 1]. */
  public static List<Segment> segments(WorkflowDefinition d) {
    List<Segment> out = new ArrayList<>();
    List<WorkflowDefinition.Step> steps = d.steps();
    int first = 0;
    for (int i = 1; i <= steps.size(); i++) {
      if (i == steps.size() || !steps.get(i).machine().equals(steps.get(first).machine())) {
        out.add(
            new Segment(
                steps.get(first).machine(),
                first,
                steps.subList(first, i).stream().map(WorkflowDefinition.Step::id).toList()));
        first = i;
      }
    }
    return out;
  }

  /** Whether a step that counts (no {@code continue_on_failure}) failed among {@code statuses}. */
  public static boolean failedBefore(WorkflowDefinition d, Map<String, String> statuses) {
    for (WorkflowDefinition.Step s : d.steps()) {
      String status = statuses.get(s.id());
      if (status != null && FAILING.contains(status) && !s.continueOnFailure()) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code status} counts as a failure of {@code step} for the steps after it. */
  public static boolean fails(WorkflowDefinition.Step step, String status) {
    return FAILING.contains(status) && !step.continueOnFailure();
  }

  /**
   * What a daemon checks before running a part of a run ({@link WorkflowRefusal#BAD_STEPS}
   * otherwise): {@code steps} are one or more consecutive steps of the definition, in its order,
   * each naming this machine ({@code thisMachine}: its name and its id), and {@code prior} gives a
   * known status for exactly every step before them — no more, no fewer.
   *
   * @throws IllegalArgumentException when they do not fit
   */
  public static void check(
      WorkflowDefinition d,
      List<String> steps,
      Map<String, String> prior,
      Set<String> thisMachine) {
    List<String> ids = d.steps().stream().map(WorkflowDefinition.Step::id).toList();
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("no steps asked");
    }
    int first = ids.indexOf(steps.get(0));
    if (first < 0 || first + steps.size() > ids.size()) {
      throw new IllegalArgumentException("a step the definition does not have");
    }
    for (int i = 0; i < steps.size(); i++) {
      if (!ids.get(first + i).equals(steps.get(i))) {
        throw new IllegalArgumentException("the steps are not consecutive, in order");
      }
      if (!thisMachine.contains(d.steps().get(first + i).machine())) {
        throw new IllegalArgumentException("step " + steps.get(i) + " names another machine");
      }
    }
    if (!prior.keySet().equals(Set.copyOf(ids.subList(0, first)))) {
      throw new IllegalArgumentException("the earlier steps' statuses are not all given");
    }
    for (String status : prior.values()) {
      if (!WorkflowRunReport.STATUSES.contains(status) && !NOT_RUN.equals(status)) {
        throw new IllegalArgumentException("an unknown step status");
      }
    }
  }
}
