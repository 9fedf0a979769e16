package dev.umbra.controlplane.workflows;

import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.runs.RunRecord;
import dev.umbra.controlplane.runs.RunStore;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowRunReport;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * A daemon's report of a workflow run (docs/agents.md, "Workflow runs"), signed with its binding
 * key: stored as a run record of kind {@code workflow} (once per event id) and audited as {@code
 * workflow.run} or, when the daemon refused to run the definition, {@code workflow.refused} with
 * its reason — numbers, ids and codes only, with the machine as actor.
 */
final class WorkflowRunReports {
  private final Clock clock;
  private final MachineRequest.Checker machines;
  private final AuditEmitter audit;
  private final RunStore runs;
  private final Ids ids;

  WorkflowRunReports(
      Clock clock, MachineRequest.Checker machines, AuditEmitter audit, RunStore runs, Ids ids) {
    this.clock = clock;
    this.machines = machines;
    this.audit = audit;
    this.runs = runs;
    this.ids = ids;
  }

  void register(ApiRoutes routes) {
    routes.add(
        HttpMethod.POST,
        ControlPlanePaths.MACHINE_WORKFLOW_RUNS,
        "A machine reports a workflow run or its refusal to run one (numbers, ids and codes only), signed with its binding key",
        Auth.MACHINE_SIGNATURE,
        202,
        MachineRequest.schema()
            .required(
                "report",
                Schema.string(1, WorkflowRunReport.MAX_TEXT)
                    .describe(
                        "canonical JSON {event_id, name, version, channel, outcome (success|failure|refused), reason, duration_ms, steps[{id,status,exit_status,duration_ms,bytes_in,bytes_out}]}"))
            .build()
            .describe(
                "signature over \"umbra-machine-workflow-run/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<report>\""),
        Schema.object().required("event_id", Schema.string(26, 26)).build(),
        Handlers.json(202, this::report));
  }

  private Future<JsonObject> report(RoutingContext ctx) {
    JsonObject body =
        Requests.body(ctx, "workspace_id", "machine_id", "timestamp_ms", "signature", "report");
    MachineRequest req = MachineRequest.parse(clock, body);
    if (!(body.getValue("report") instanceof String text)) {
      throw Refusal.invalid("report", "report must be the canonical JSON text of the run");
    }
    WorkflowRunReport report;
    try {
      report = WorkflowRunReport.parse(text);
    } catch (CryptoException e) {
      throw Refusal.invalid("report", e.getMessage());
    }
    return req.run(
            machines,
            ctx,
            MachineRequests.workflowRun(
                req.workspaceId(), req.machineId(), req.timestampMs(), text),
            conn -> runs.record(conn, req.workspaceId(), req.machineId(), record(report)))
        .map(
            v -> {
              emit(ctx, req.workspaceId(), req.machineId(), report);
              return new JsonObject().put("event_id", report.eventId());
            });
  }

  private RunRecord record(WorkflowRunReport r) {
    OffsetDateTime end = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    JsonArray steps = new JsonArray();
    for (WorkflowRunReport.StepResult s : r.steps()) {
      steps.add(
          new JsonObject()
              .put("id", s.id())
              .put("status", s.status())
              .put("exit_status", s.exitStatus())
              .put("duration_ms", s.durationMs())
              .put("bytes_in", s.bytesIn())
              .put("bytes_out", s.bytesOut()));
    }
    int exit =
        r.steps().stream()
            .filter(s -> s.exitStatus() != 0 && s.exitStatus() != -1)
            .mapToInt(WorkflowRunReport.StepResult::exitStatus)
            .findFirst()
            .orElse("success".equals(r.outcome()) ? 0 : -1);
    return new RunRecord(
        ids.next(),
        r.eventId(),
        null,
        "workflow",
        null,
        r.channel(),
        "success".equals(r.outcome()) ? "success" : "failure",
        r.reason(),
        exit,
        end.minus(Duration.ofMillis(r.durationMs())),
        end,
        r.durationMs(),
        r.bytesIn(),
        r.bytesOut(),
        new RunRecord.Workflow(r.name(), r.version(), steps));
  }

  private void emit(RoutingContext ctx, UUID wid, UUID mid, WorkflowRunReport r) {
    boolean refused = "refused".equals(r.outcome());
    var e =
        audit
            .event(refused ? AuditAction.WORKFLOW_REFUSED : AuditAction.WORKFLOW_RUN)
            .workspace(wid)
            .actor(AuditActor.machine(mid.toString()))
            .target("machine", mid)
            .request(ctx)
            .meta("workflow", r.name())
            .meta("version", Long.toString(r.version()))
            .meta("channel", r.channel())
            .meta("steps", Integer.toString(r.steps().size()));
    if ("success".equals(r.outcome())) {
      e.success();
    } else {
      e.failure(r.reason().isEmpty() ? "failed" : r.reason());
    }
    audit.emit(e.proto().setId(r.eventId()));
  }
}
