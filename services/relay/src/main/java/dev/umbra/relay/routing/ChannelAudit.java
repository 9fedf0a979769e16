package dev.umbra.relay.routing;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import java.util.regex.Pattern;

/**
 * The audit trail of relay channels (docs/audit.md): opened, refused and closed, with envelope
 * metadata only — who (the member), which machine and channel, from where, why; never a payload.
 */
final class ChannelAudit {
  private static final Pattern REASON_CODE = Pattern.compile("[a-z_]{1,32}");

  private final AuditEmitter audit;

  ChannelAudit(AuditEmitter audit) {
    this.audit = audit;
  }

  /**
   * Audits a daemon's answer on its way to the client: ACCEPT of an OPEN seen here opens the
   * channel, CLOSE of one never accepted refuses it, any other CLOSE closes it. A channel resumed
   * on this instance after a reconnect was audited where it was opened; only its close is audited
   * here.
   */
  void seenByClient(Connection client, String ck, RelayFrame f) {
    if (f.getType() == FrameType.FRAME_TYPE_ACCEPT) {
      if (client.opening.remove(ck)) {
        channel(AuditAction.RELAY_CHANNEL_OPENED, client, f, null);
      }
    } else if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
      boolean refused = client.opening.remove(ck);
      channel(
          refused ? AuditAction.RELAY_CHANNEL_REFUSED : AuditAction.RELAY_CHANNEL_CLOSED,
          client,
          f,
          "daemon_" + reasonCode(f.getReason()));
    }
  }

  /** Reasons are codes set by the channel layer; anything else a peer put there is not repeated. */
  static String reasonCode(String reason) {
    return reason.isEmpty() ? "done" : REASON_CODE.matcher(reason).matches() ? reason : "other";
  }

  /** Envelope metadata only: who (the member), which machine and channel, from where, why. */
  void channel(AuditAction action, Connection client, RelayFrame f, String reason) {
    var e =
        audit
            .event(action)
            .workspace(client.claims.workspaceId())
            .actor(AuditActor.member(client.claims.subject()))
            .target("machine", f.getTargetId())
            .sourceIp(client.ip)
            .meta("channel", Long.toHexString(f.getChannelId()));
    if (action == AuditAction.RELAY_CHANNEL_REFUSED) {
      e.denied(reason);
    } else {
      if (reason != null) {
        e.meta("reason", reason);
      }
      e.success();
    }
    e.emit();
  }
}
