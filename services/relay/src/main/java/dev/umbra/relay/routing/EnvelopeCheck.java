package dev.umbra.relay.routing;

import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;

/**
 * The envelope checks every parsed frame passes before it is routed (docs/relay.md, "Frames"): a
 * known type its sender may send, the sender's own workspace, a valid target, a channel, a payload
 * exactly where the type carries one, a bounded reason.
 */
final class EnvelopeCheck {
  private EnvelopeCheck() {}

  /** Why the frame is refused, or null when it may be routed. */
  static Reject check(Connection c, RelayFrame f) {
    FrameType t = f.getType();
    if (t == FrameType.UNRECOGNIZED || t == FrameType.FRAME_TYPE_UNSPECIFIED) {
      return Reject.UNKNOWN_TYPE;
    }
    if (!(c.daemon ? RelayWire.FROM_DAEMON : RelayWire.FROM_CLIENT).contains(t)) {
      return Reject.TYPE_NOT_ALLOWED;
    }
    if (!c.workspace.equals(f.getWorkspaceId())) {
      return Reject.WRONG_WORKSPACE;
    }
    if (!validTarget(c, f.getTargetId())
        || (t != FrameType.FRAME_TYPE_REGISTER && f.getChannelId() == 0)
        || RelayWire.WITH_PAYLOAD.contains(t) == f.getPayload().isEmpty()
        || f.getReason().length() > RelayWire.MAX_REASON_CHARS) {
      return Reject.BAD_FIELD;
    }
    return null;
  }

  /**
   * A connection talks to one or a few targets: the last one that passed the check is remembered.
   */
  private static boolean validTarget(Connection c, String target) {
    if (target.equals(c.lastValidTarget)) {
      return true;
    }
    if (RelayWire.validTarget(target)) {
      c.lastValidTarget = target;
      return true;
    }
    return false;
  }
}
