package dev.umbra.daemon.audit;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports what only this daemon sees to the audit log (docs/audit.md, "Events daemons report"): a
 * command run (exit status, duration) and a tunnel's opening and closing (bytes counted), as {@code
 * POST /v1/machine-audit} signed with the binding's Ed25519 key. A report carries numbers and ids
 * only — never the command line, its output, the forwarded host or any byte of traffic. Reporting
 * never blocks a channel; a report the control plane does not take is logged (action only) and
 * dropped.
 */
public final class DaemonAudit {
  public static final String PATH = ControlPlanePaths.MACHINE_AUDIT;
  private static final Logger log = LoggerFactory.getLogger(DaemonAudit.class);
  private static final java.util.regex.Pattern REASON =
      java.util.regex.Pattern.compile("[a-z][a-z0-9_]{0,31}");

  /** What a daemon may report. */
  public enum Action {
    COMMAND_RUN("command.run"),
    TUNNEL_OPENED("tunnel.opened"),
    TUNNEL_CLOSED("tunnel.closed"),
    AGENT_SESSION_ENDED("agent_session.ended");

    private final String wire;

    Action(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }
  }

  /**
   * One report. {@code reason} is a short code or empty; {@code exitStatus} is the command's (-1
   * when it did not start or was killed); bytes are {@code in} from the client, {@code out} to it;
   * {@code runtime} is an agent session's runtime id, else empty.
   */
  public record Report(
      Action action,
      long channelId,
      boolean success,
      String reason,
      int exitStatus,
      long durationMs,
      long bytesIn,
      long bytesOut,
      String runtime) {
    public Report(
        Action action,
        long channelId,
        boolean success,
        String reason,
        int exitStatus,
        long durationMs,
        long bytesIn,
        long bytesOut) {
      this(action, channelId, success, reason, exitStatus, durationMs, bytesIn, bytesOut, "");
    }

    public static Report commandRun(long channelId, int exitStatus, long durationMs) {
      return commandRun(channelId, exitStatus, durationMs, 0, 0);
    }

    /**
     * A finished command with the bytes it read from the client ({@code bytesIn}, stdin) and sent
     * to it ({@code bytesOut}, stdout and stderr): counts only, the control plane's run record
     * (docs/agents.md, "Run records").
     */
    public static Report commandRun(
        long channelId, int exitStatus, long durationMs, long bytesIn, long bytesOut) {
      return new Report(
          Action.COMMAND_RUN, channelId, true, "", exitStatus, durationMs, bytesIn, bytesOut);
    }

    /**
     * An agent session whose runtime exited: its exit status, how long it ran, the bytes of prompts
     * and approvals from its watchers ({@code bytesIn}) and of the runtime's frames ({@code
     * bytesOut}); {@code channelId} is the channel that started it, {@code runtime} its configured
     * id. Counts and ids only.
     */
    public static Report agentSessionEnded(
        long channelId,
        String runtime,
        int exitStatus,
        long durationMs,
        long bytesIn,
        long bytesOut) {
      return new Report(
          Action.AGENT_SESSION_ENDED,
          channelId,
          true,
          "",
          exitStatus,
          durationMs,
          bytesIn,
          bytesOut,
          runtime);
    }

    public static Report commandNotStarted(long channelId) {
      return new Report(Action.COMMAND_RUN, channelId, false, "start_failed", -1, 0, 0, 0);
    }

    public static Report tunnelOpened(long channelId) {
      return new Report(Action.TUNNEL_OPENED, channelId, true, "", -1, 0, 0, 0);
    }

    public static Report tunnelClosed(
        long channelId, long bytesIn, long bytesOut, long durationMs, String reason) {
      String code =
          reason == null || reason.isEmpty()
              ? ""
              : REASON.matcher(reason).matches() ? reason : "other";
      return new Report(
          Action.TUNNEL_CLOSED, channelId, true, code, -1, durationMs, bytesIn, bytesOut);
    }
  }

  /** Where a binding's reports go; {@link #NONE} drops them (tests without a control plane). */
  public interface Sink {
    void report(Report r);
  }

  public static final Sink NONE = r -> {};

  private final Vertx vertx;
  private final JsonHttp http;
  private final Binding binding;
  private final Supplier<Ed25519KeyPair> signing;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public DaemonAudit(
      Vertx vertx, JsonHttp http, Binding binding, Supplier<Ed25519KeyPair> signing, Clock clock) {
    this.vertx = vertx;
    this.http = http;
    this.binding = binding;
    this.signing = signing;
    this.clock = clock;
  }

  /** The bytes a machine signs; the control plane checks the same (MachineReport.message). */
  public static byte[] message(
      UUID workspaceId, UUID machineId, long timestampMs, String eventId, Report r) {
    return MachineRequests.audit(
        workspaceId,
        machineId,
        timestampMs,
        new MachineRequests.AuditReport(
            eventId,
            r.action().wire(),
            Long.toHexString(r.channelId()),
            r.success() ? "success" : "failure",
            r.reason(),
            r.exitStatus(),
            r.durationMs(),
            r.bytesIn(),
            r.bytesOut()),
        r.runtime());
  }

  /** The signed request body of {@code r} with event id {@code eventId}. */
  public static JsonObject body(
      UUID workspaceId,
      UUID machineId,
      long timestampMs,
      String eventId,
      Report r,
      Ed25519KeyPair key) {
    JsonObject b =
        new JsonObject()
            .put("workspace_id", workspaceId.toString())
            .put("machine_id", machineId.toString())
            .put("timestamp_ms", timestampMs)
            .put("event_id", eventId)
            .put("action", r.action().wire())
            .put("channel", Long.toHexString(r.channelId()))
            .put("outcome", r.success() ? "success" : "failure")
            .put("exit_status", r.exitStatus())
            .put("duration_ms", r.durationMs())
            .put("bytes_in", r.bytesIn())
            .put("bytes_out", r.bytesOut())
            .put(
                "signature",
                HexFormat.of()
                    .formatHex(
                        key.privateKey()
                            .sign(message(workspaceId, machineId, timestampMs, eventId, r))));
    if (!r.reason().isEmpty()) {
      b.put("reason", r.reason());
    }
    if (!r.runtime().isEmpty()) {
      b.put("runtime", r.runtime());
    }
    return b;
  }

  /**
   * A ULID (48-bit time, 80 random bits, Crockford base32): the audit service de-duplicates on it.
   */
  public String newEventId() {
    return dev.umbra.crypto.ids.Ulids.next(clock.millis(), random);
  }

  /** Sends {@code r} off the event loop; completes with the event id, or fails (already logged). */
  public Future<String> report(Report r) {
    String id = newEventId();
    return vertx
        .executeBlocking(
            () -> {
              long ts = clock.millis();
              http.post(
                  JsonHttp.resolve(binding.controlPlaneUrl(), PATH),
                  null,
                  body(binding.workspaceId(), binding.machineId(), ts, id, r, signing.get()));
              return id;
            },
            false)
        .onFailure(
            e ->
                log.atWarn()
                    .addKeyValue("action", r.action().wire())
                    .log("audit report not taken by the control plane: {}", e.getMessage()));
  }

  /** This reporter as a {@link Sink}. */
  public Sink sink() {
    return r -> report(r);
  }
}
