package dev.umbra.controlplane.machines;

import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.kit.id.Ulid;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * What a machine reports to the audit log (docs/audit.md, "Events daemons report"), admitted from
 * the body of {@link MachineAuditRoutes}: numbers and ids only. {@code reason} is empty when none
 * was given.
 */
record MachineReport(MachineRequests.AuditReport signed, AuditAction action, String runtime) {
  private static final Pattern CHANNEL = Pattern.compile("[0-9a-f]{1,16}");
  private static final Pattern REASON = Pattern.compile("[a-z][a-z0-9_]{0,31}");
  private static final Pattern RUNTIME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,31}");

  /** The report's members of {@code body}; each failure is a 400 naming the member. */
  static MachineReport parse(JsonObject body) {
    String eventId = Requests.string(body, "event_id", 26, 26);
    if (!Ulid.isValid(eventId)) {
      throw ApiException.badRequest("event_id", "event_id must be a ULID");
    }
    String actionWire = Requests.string(body, "action", 1, 32);
    AuditAction action = MachineAuditRoutes.ACTIONS.get(actionWire);
    if (action == null) {
      throw ApiException.badRequest(
          "action",
          "action must be one of "
              + MachineAuditRoutes.ACTIONS.keySet().stream().sorted().toList());
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
    String runtime = Requests.optionalString(body, "runtime", 1, 32).orElse("");
    if ((action == AuditAction.AGENT_SESSION_ENDED) == runtime.isEmpty()
        || (!runtime.isEmpty() && !RUNTIME.matcher(runtime).matches())) {
      throw ApiException.badRequest(
          "runtime", "runtime must be the agent runtime's id, given for agent_session.ended only");
    }
    return new MachineReport(
        new MachineRequests.AuditReport(
            eventId,
            actionWire,
            channel,
            outcome,
            reason,
            number(body, "exit_status", -1, 255),
            number(body, "duration_ms", 0, Long.MAX_VALUE / 2),
            number(body, "bytes_in", 0, Long.MAX_VALUE / 2),
            number(body, "bytes_out", 0, Long.MAX_VALUE / 2)),
        action,
        runtime);
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

  /**
   * The bytes the machine signed: the report's fields in a fixed order after {@code
   * umbra-machine-audit/v1}, joined by newlines (the daemon's DaemonAudit.message signs the same).
   */
  byte[] message(UUID workspaceId, UUID machineId, long timestampMs) {
    return MachineRequests.audit(workspaceId, machineId, timestampMs, signed, runtime);
  }
}
