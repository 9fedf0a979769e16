package dev.umbra.cli.work;

import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRunPlan;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The member's client orchestrates one run of a workflow whose steps name several machines
 * (docs/agents.md, "Workflow runs"): for each {@link WorkflowRunPlan#segments segment} in order it
 * asks the segment's machine, over its own end-to-end channel, to run those steps of run {@code
 * runId} of the workflow at {@code version}, with the inputs and the status of every step before
 * them. Each daemon verifies the definition itself and runs only steps naming it; this class only
 * decides whom to ask next. A machine that refuses or cannot be reached fails the run at its steps
 * ({@link WorkflowRunPlan#NOT_RUN}, or {@code skipped} where the condition would not have held) and
 * later steps obey their conditions. Blocking.
 */
final class WorkflowOrchestrator {
  /** The typed reason of a machine that could not be reached (no machine reports it). */
  static final String MACHINE_UNREACHABLE = "machine_unreachable";

  /** Runs a part of the run on a machine: its {@code end} message with {@code steps}. */
  @FunctionalInterface
  interface Machines {
    /**
     * @throws Exception when the machine cannot be reached or the channel ends before the part
     */
    JsonObject run(String machine, JsonObject part) throws Exception;
  }

  /** The run as the client saw it: every step's status, in order, and why it failed (or ""). */
  record Result(boolean success, String reason, Map<String, String> statuses) {}

  private WorkflowOrchestrator() {}

  static Result run(
      WorkflowDefinition d,
      long version,
      String runId,
      Map<String, String> given,
      Map<String, String> resolved,
      Machines machines,
      PrintStream err) {
    Map<String, String> statuses = new LinkedHashMap<>();
    String reason = "";
    for (WorkflowRunPlan.Segment seg : WorkflowRunPlan.segments(d)) {
      JsonObject part =
          new JsonObject()
              .put("name", d.name())
              .put("version", version)
              .put("run_id", runId)
              .put("inputs", new JsonObject(new LinkedHashMap<String, Object>(given)))
              .put("steps", new io.vertx.core.json.JsonArray(List.copyOf(seg.steps())))
              .put("prior", new JsonObject(new LinkedHashMap<String, Object>(statuses)));
      JsonObject end;
      try {
        end = machines.run(seg.machine(), part);
      } catch (Exception e) {
        end =
            new JsonObject()
                .put("outcome", "refused")
                .put("reason", MACHINE_UNREACHABLE)
                .put("message", "machine " + seg.machine() + " could not be reached: " + message(e))
                .put("steps", new JsonObject());
      }
      if (!end.getString("message", "").isEmpty()) {
        err.println(end.getString("message"));
      }
      String outcome = end.getString("outcome", "refused");
      JsonObject told = end.getJsonObject("steps", new JsonObject());
      if ("refused".equals(outcome) && reason.isEmpty()) {
        reason = end.getString("reason", "refused");
      } else if ("failure".equals(outcome) && reason.isEmpty()) {
        reason = end.getString("reason", "step_failed");
      }
      for (String id : seg.steps()) {
        String status = told.getString(id);
        if (status == null) {
          // the machine ran none of it (refused, unreachable) or ended before this step
          status = wouldRun(d, id, resolved, statuses) ? WorkflowRunPlan.NOT_RUN : "skipped";
          err.println("step " + id + ": " + status + " (machine " + seg.machine() + ")");
          if (reason.isEmpty() && WorkflowRunPlan.NOT_RUN.equals(status)) {
            reason = "incomplete";
          }
        }
        statuses.put(id, status);
      }
    }
    boolean success = reason.isEmpty() && !WorkflowRunPlan.failedBefore(d, statuses);
    return new Result(success, success ? "" : reason.isEmpty() ? "step_failed" : reason, statuses);
  }

  private static boolean wouldRun(
      WorkflowDefinition d, String id, Map<String, String> inputs, Map<String, String> before) {
    WorkflowDefinition.Step s =
        d.steps().stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
    return s.when().holds(inputs, WorkflowRunPlan.failedBefore(d, before));
  }

  private static String message(Exception e) {
    Throwable t = e.getCause() != null ? e.getCause() : e;
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
