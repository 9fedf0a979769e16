package dev.umbra.controlplane.machines;

import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.id.Ulid;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

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
          AuditAction.TUNNEL_CLOSED.wire(), AuditAction.TUNNEL_CLOSED);

  private static final Pattern CHANNEL = Pattern.compile("[0-9a-f]{1,16}");
  private static final Pattern REASON = Pattern.compile("[a-z][a-z0-9_]{0,31}");

  private final Clock clock;
  private final MachineRequest.Checker machines;
  private final AuditEmitter audit;

  /** Only what it uses: the clock (timestamps), the machine checker, the audit emitter. */
  public MachineAuditRoutes(Clock clock, MachineRequest.Checker machines, AuditEmitter audit) {
    this.clock = clock;
    this.machines = machines;
    this.audit = audit;
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
            .build()
            .describe(
                "signature over the fields joined by \\n after \"umbra-machine-audit/v1\" (MachineAuditRoutes.message)");
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

  /**
   * The report's fields in a fixed order; a daemon signs exactly these bytes (DaemonAudit.message).
   */
  public static byte[] message(
      UUID workspaceId,
      UUID machineId,
      long timestampMs,
      String eventId,
      String action,
      String channel,
      String outcome,
      String reason,
      long exitStatus,
      long durationMs,
      long bytesIn,
      long bytesOut) {
    return ("umbra-machine-audit/v1\n"
            + workspaceId
            + "\n"
            + machineId
            + "\n"
            + timestampMs
            + "\n"
            + eventId
            + "\n"
            + action
            + "\n"
            + channel
            + "\n"
            + outcome
            + "\n"
            + reason
            + "\n"
            + exitStatus
            + "\n"
            + durationMs
            + "\n"
            + bytesIn
            + "\n"
            + bytesOut)
        .getBytes(StandardCharsets.UTF_8);
  }

  private static long number(JsonObject body, String field, long min, long max) {
    if (!(body.getValue(field) instanceof Number n)
        || n.doubleValue() != n.longValue()
        || n.longValue() < min
        || n.longValue() > max) {
      throw ApiException.badRequest(
          field, field + " must be an integer from " + min + " to " + max);
    }
    return n.longValue();
  }

  private Future<JsonObject> report(RoutingContext ctx) {
    JsonObject body =
        Requests.body(
            ctx,
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
            "bytes_out");
    MachineRequest req = MachineRequest.parse(clock, body);
    String eventId = Requests.string(body, "event_id", 26, 26);
    if (!Ulid.isValid(eventId)) {
      throw ApiException.badRequest("event_id", "event_id must be a ULID");
    }
    String actionWire = Requests.string(body, "action", 1, 32);
    AuditAction action = ACTIONS.get(actionWire);
    if (action == null) {
      throw ApiException.badRequest(
          "action", "action must be one of " + ACTIONS.keySet().stream().sorted().toList());
    }
    String channel = Requests.string(body, "channel", 1, 16);
    if (!CHANNEL.matcher(channel).matches()) {
      throw ApiException.badRequest("channel", "channel must be the channel id in lower-case hex");
    }
    String outcome = Requests.oneOf(body, "outcome", null, "success", "failure");
    String reason = Requests.optionalString(body, "reason", 1, 32).orElse("");
    if (!reason.isEmpty() && !REASON.matcher(reason).matches()) {
      throw ApiException.badRequest("reason", "reason must be a short code");
    }
    long exit = number(body, "exit_status", -1, 255);
    long duration = number(body, "duration_ms", 0, Long.MAX_VALUE / 2);
    long in = number(body, "bytes_in", 0, Long.MAX_VALUE / 2);
    long out = number(body, "bytes_out", 0, Long.MAX_VALUE / 2);
    byte[] message =
        message(
            req.workspaceId(),
            req.machineId(),
            req.timestampMs(),
            eventId,
            actionWire,
            channel,
            outcome,
            reason,
            exit,
            duration,
            in,
            out);
    return req.run(machines, ctx, message, conn -> Future.succeededFuture())
        .map(
            v -> {
              var e =
                  audit
                      .event(action)
                      .workspace(req.workspaceId())
                      .actor(AuditActor.machine(req.machineId().toString()))
                      .target("machine", req.machineId())
                      .request(ctx)
                      .meta("channel", channel);
              if (action == AuditAction.COMMAND_RUN) {
                e.meta("exit_status", Long.toString(exit))
                    .meta("duration_ms", Long.toString(duration));
              } else if (action == AuditAction.TUNNEL_CLOSED) {
                e.meta("bytes_in", Long.toString(in))
                    .meta("bytes_out", Long.toString(out))
                    .meta("duration_ms", Long.toString(duration));
              }
              if ("success".equals(outcome)) {
                if (!reason.isEmpty()) {
                  e.meta("reason", reason);
                }
                e.success();
              } else {
                e.failure(reason.isEmpty() ? "failed" : reason);
              }
              var built = e.proto().setId(eventId);
              audit.emit(built);
              return new JsonObject().put("event_id", eventId);
            });
  }
}
