package dev.umbra.controlplane.workflows;

import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.devices.MachineRequestVerifier;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import dev.umbra.crypto.workflow.WorkflowRunReport;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * A daemon's report of its part of a workflow run (docs/agents.md, "Workflow runs"), signed with
 * its binding key: merged into the run record of kind {@code workflow} of its run id ({@link
 * WorkflowRunMerge}; once per event id) and audited as {@code workflow.run} or, when the daemon
 * refused to run the definition, {@code workflow.refused} with its reason — numbers, ids and codes
 * only, with the machine as actor.
 */
final class WorkflowRunReports {
  private static final Pattern EVENT_ID = Pattern.compile("[0-9A-HJKMNP-TV-Z]{26}");

  private final MachineRequestVerifier machines;
  private final AuditEmitter audit;
  private final WorkflowRunMerge merge;

  WorkflowRunReports(MachineRequestVerifier machines, AuditEmitter audit, WorkflowRunMerge merge) {
    this.machines = machines;
    this.audit = audit;
    this.merge = merge;
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
                        "canonical JSON {event_id, run_id, name, version, channel, outcome (success|failure|refused), reason, duration_ms, steps[{id,status,exit_status,duration_ms,bytes_in,bytes_out}]}"))
            .build()
            .describe(
                "signature over \"umbra-machine-workflow-run/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<report>\""),
        Schema.object().required("event_id", Schema.string(26, 26)).build(),
        Handlers.json(202, this::report));
    routes.add(
        HttpMethod.POST,
        ControlPlanePaths.MACHINE_WORKFLOW_REFUSALS,
        "A machine reports that it refused a stored workflow definition outside a run (its mirror did not write it to a file): audited as workflow.refused, ids and codes only",
        Auth.MACHINE_SIGNATURE,
        202,
        MachineRequest.schema()
            .required(
                "event_id",
                Schema.string(26, 26)
                    .describe("a ULID the daemon chose: the audit keeps one event per id"))
            .required("name", Schema.string(1, 64))
            .required("version", Schema.integer(0, CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER))
            .required(
                "reason",
                Schema.string(1, 32)
                    .describe("why: not_found, malformed, bad_signature, unknown_signer, ..."))
            .build()
            .describe(
                "signature over \"umbra-machine-workflow-refusal/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<event_id>\\n<name>\\n<version>\\n<reason>\""),
        Schema.object().required("event_id", Schema.string(26, 26)).build(),
        Handlers.json(202, this::refusal));
  }

  /** A refusal outside a run: no run record (nothing ran), one audit event. */
  private Future<JsonObject> refusal(RoutingContext ctx) {
    MachineRequestVerifier.Incoming in =
        machines.read(ctx, "event_id", "name", "version", "reason");
    JsonObject body = in.body();
    if (!(body.getValue("event_id") instanceof String id) || !EVENT_ID.matcher(id).matches()) {
      throw Refusal.invalid("event_id", "event_id must be a ULID");
    }
    if (!(body.getValue("name") instanceof String name)
        || !WorkflowDefinition.NAME.matcher(name).matches()) {
      throw Refusal.invalid("name", "name must be a workflow name");
    }
    if (!(body.getValue("version") instanceof Number n)
        || n.doubleValue() != n.longValue()
        || n.longValue() < 0
        || n.longValue() > CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER) {
      throw Refusal.invalid("version", "version must be 0 or a stored version");
    }
    long version = n.longValue();
    WorkflowRefusal reason =
        body.getValue("reason") instanceof String r
            ? WorkflowRefusal.fromCode(r).orElse(null)
            : null;
    if (reason == null) {
      throw Refusal.invalid("reason", "reason must be a workflow refusal code");
    }
    return in.verified(
            (w, m, ts) ->
                MachineRequests.workflowRefusal(w, m, ts, id, name, version, reason.code()),
            conn -> Future.succeededFuture())
        .map(
            v -> {
              var e =
                  audit
                      .event(AuditAction.WORKFLOW_REFUSED)
                      .workspace(in.workspaceId())
                      .actor(AuditActor.machine(in.machineId().toString()))
                      .target("machine", in.machineId())
                      .request(ctx)
                      .meta("workflow", name)
                      .meta("version", Long.toString(version))
                      .meta("source", "mirror")
                      .failure(reason.code());
              audit.emit(e.proto().setId(id));
              return new JsonObject().put("event_id", id);
            });
  }

  private Future<JsonObject> report(RoutingContext ctx) {
    MachineRequestVerifier.Incoming in = machines.read(ctx, "report");
    JsonObject body = in.body();
    MachineRequest req = in.request();
    if (!(body.getValue("report") instanceof String text)) {
      throw Refusal.invalid("report", "report must be the canonical JSON text of the run");
    }
    WorkflowRunReport report;
    try {
      report = WorkflowRunReport.parse(text);
    } catch (CryptoException e) {
      throw Refusal.invalid("report", e.getMessage());
    }
    return in.verified(
            (w, m, ts) -> MachineRequests.workflowRun(w, m, ts, text),
            conn -> merge.merge(conn, req.workspaceId(), req.machineId(), report))
        .map(
            v -> {
              emit(ctx, req.workspaceId(), req.machineId(), report);
              return new JsonObject().put("event_id", report.eventId());
            });
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
            .meta("run_id", r.runId())
            .meta("steps", Integer.toString(r.steps().size()));
    if ("success".equals(r.outcome())) {
      e.success();
    } else {
      e.failure(r.reason().isEmpty() ? "failed" : r.reason());
    }
    audit.emit(e.proto().setId(r.eventId()));
  }
}
