package dev.umbra.controlplane.machines;

import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.runs.RunRecord;
import dev.umbra.controlplane.runs.RunStore;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;

/**
 * What only a daemon sees, reported to the audit log with its binding's signature (docs/audit.md,
 * "Events daemons report"): {@code command.run} per {@code umbra run} (exit status and duration)
 * and {@code tunnel.opened}/{@code tunnel.closed} per forward (bytes counted). The report carries
 * numbers and ids only — never a command line, output, host or payload — and the control plane
 * emits it with the machine as actor. The daemon picks the event id (a ULID), which the audit
 * service de-duplicates on, so a replayed report adds nothing.
 */
public final class MachineAuditRoutes {
  public static final String PATH = ControlPlanePaths.MACHINE_AUDIT;

  /** The actions a machine may report; anything else is a 400. */
  static final Map<String, AuditAction> ACTIONS =
      Map.of(
          AuditAction.COMMAND_RUN.wire(), AuditAction.COMMAND_RUN,
          AuditAction.TUNNEL_OPENED.wire(), AuditAction.TUNNEL_OPENED,
          AuditAction.TUNNEL_CLOSED.wire(), AuditAction.TUNNEL_CLOSED,
          AuditAction.AGENT_SESSION_ENDED.wire(), AuditAction.AGENT_SESSION_ENDED);

  /** The members of a report's body. */
  private static final String[] FIELDS = {
    "workspace_id",
    "machine_id",
    "timestamp_ms",
    "signature",
    "event_id",
    "action",
    "channel",
    "outcome",
    "reason",
    "exit_status",
    "duration_ms",
    "bytes_in",
    "bytes_out",
    "runtime"
  };

  private final Clock clock;
  private final MachineRequest.Checker machines;
  private final AuditEmitter audit;
  private final RunStore runs;
  private final Ids ids;

  /**
   * Only what it uses: the clock (timestamps), the machine checker, the audit emitter, and where a
   * {@code command.run} also leaves its run record (docs/agents.md, "Run records").
   */
  public MachineAuditRoutes(
      Clock clock, MachineRequest.Checker machines, AuditEmitter audit, RunStore runs, Ids ids) {
    this.clock = clock;
    this.machines = machines;
    this.audit = audit;
    this.runs = runs;
    this.ids = ids;
  }

  public void register(ApiRoutes routes) {
    long big = Long.MAX_VALUE / 2;
    Schema request =
        dev.umbra.controlplane.devices.MachineRequest.schema()
            .required(
                "event_id",
                Schema.string(26, 26)
                    .describe("a ULID; the audit event's id (a repeat is stored once)"))
            .required(
                "action", Schema.oneOf(ACTIONS.keySet().stream().sorted().toArray(String[]::new)))
            .required(
                "channel", Schema.string(1, 16).describe("the relay channel id, lower-case hex"))
            .required("outcome", Schema.oneOf("success", "failure"))
            .optional("reason", Schema.string(1, 32).describe("a short code [a-z][a-z0-9_]*"))
            .required("exit_status", Schema.integer(-1, 255))
            .required("duration_ms", Schema.integer(0, big))
            .required("bytes_in", Schema.integer(0, big))
            .required("bytes_out", Schema.integer(0, big))
            .optional(
                "runtime",
                Schema.string(1, 32)
                    .describe(
                        "agent_session.ended only: the runtime's id, signed as one more line"))
            .build()
            .describe(
                "signature over the fields joined by \\n after \"umbra-machine-audit/v1\" (MachineReport.message)");
    routes.add(
        HttpMethod.POST,
        PATH,
        "A machine reports a command run or a tunnel (numbers and ids only), signed with its binding key",
        Auth.MACHINE_SIGNATURE,
        202,
        request,
        Schema.object().required("event_id", Schema.string(26, 26)).build(),
        Handlers.json(202, this::report));
  }

  private Future<JsonObject> report(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, FIELDS);
    MachineRequest req = MachineRequest.parse(clock, body);
    MachineReport report = MachineReport.parse(body);
    byte[] signed = report.message(req.workspaceId(), req.machineId(), req.timestampMs());
    return req.run(
            machines,
            ctx,
            signed,
            conn ->
                report.action() == AuditAction.COMMAND_RUN
                        || report.action() == AuditAction.AGENT_SESSION_ENDED
                    ? runs.record(conn, req.workspaceId(), req.machineId(), record(report))
                    : Future.succeededFuture())
        .map(
            v -> {
              emit(ctx, req, report);
              return new JsonObject().put("event_id", report.signed().eventId());
            });
  }

  /**
   * The run record of a {@code command.run} or {@code agent_session.ended} report: it ended now,
   * after its duration.
   */
  private RunRecord record(MachineReport report) {
    MachineRequests.AuditReport r = report.signed();
    OffsetDateTime end = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    return new RunRecord(
        ids.next(),
        r.eventId(),
        null,
        report.action() == AuditAction.COMMAND_RUN ? "command" : "agent_session",
        report.runtime().isEmpty() ? null : report.runtime(),
        r.channelHex(),
        r.outcome(),
        r.reason(),
        (int) r.exitStatus(),
        end.minus(Duration.ofMillis(r.durationMs())),
        end,
        r.durationMs(),
        r.bytesIn(),
        r.bytesOut(),
        null);
  }

  /** The audit event of a verified report, with the machine as actor. */
  private void emit(RoutingContext ctx, MachineRequest req, MachineReport report) {
    MachineRequests.AuditReport r = report.signed();
    var e =
        audit
            .event(report.action())
            .workspace(req.workspaceId())
            .actor(AuditActor.machine(req.machineId().toString()))
            .target("machine", req.machineId())
            .request(ctx)
            .meta("channel", r.channelHex());
    if (report.action() == AuditAction.COMMAND_RUN) {
      e.meta("exit_status", Long.toString(r.exitStatus()))
          .meta("duration_ms", Long.toString(r.durationMs()));
    } else if (report.action() == AuditAction.AGENT_SESSION_ENDED) {
      e.meta("runtime", report.runtime())
          .meta("exit_status", Long.toString(r.exitStatus()))
          .meta("duration_ms", Long.toString(r.durationMs()))
          .meta("bytes_in", Long.toString(r.bytesIn()))
          .meta("bytes_out", Long.toString(r.bytesOut()));
    } else if (report.action() == AuditAction.TUNNEL_CLOSED) {
      e.meta("bytes_in", Long.toString(r.bytesIn()))
          .meta("bytes_out", Long.toString(r.bytesOut()))
          .meta("duration_ms", Long.toString(r.durationMs()));
    }
    if ("success".equals(r.outcome())) {
      if (!r.reason().isEmpty()) {
        e.meta("reason", r.reason());
      }
      e.success();
    } else {
      e.failure(r.reason().isEmpty() ? "failed" : r.reason());
    }
    audit.emit(e.proto().setId(r.eventId()));
  }
}
