package dev.umbra.relay.routing;

import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.MeshDirection;
import dev.umbra.proto.relay.MeshSignal;
import dev.umbra.proto.relay.MeshSignalKind;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The envelope checks every parsed frame passes before it is routed (docs/relay.md, "Frames"): a
 * known type its sender may send, the sender's own workspace, a valid target, a channel, a payload
 * exactly where the type carries one, a bounded reason.
 */
final class EnvelopeCheck {
  private static final Pattern WORKSPACE =
      Pattern.compile("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}");

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
    return badFields(t, f, validTarget(c, f.getTargetId())) ? Reject.BAD_FIELD : null;
  }

  /**
   * Why a frame another instance sent over a mesh link towards {@code to} is refused, or null. The
   * peer checked it against its sender's session; this bounds what a peer can make this instance
   * route: a type of the side it goes from, a workspace id (a UUID, so names built from it hold no
   * glob), a valid target and channel, a payload exactly where the type carries one.
   */
  static Reject fromPeer(MeshDirection to, RelayFrame f, MeshLink l) {
    FrameType t = f.getType();
    if (t == FrameType.UNRECOGNIZED || t == FrameType.FRAME_TYPE_UNSPECIFIED) {
      return Reject.UNKNOWN_TYPE;
    }
    Set<FrameType> allowed =
        switch (to) {
          case MESH_DIRECTION_DAEMON -> RelayWire.FROM_CLIENT;
          case MESH_DIRECTION_CLIENT -> RelayWire.FROM_DAEMON;
          default -> Set.of();
        };
    if (!allowed.contains(t) || t == FrameType.FRAME_TYPE_REGISTER) {
      return Reject.TYPE_NOT_ALLOWED;
    }
    String ws = f.getWorkspaceId();
    String target = f.getTargetId();
    // a link carries a few routes at a time: the last workspace and target that passed are kept
    if (!ws.equals(l.lastValidWorkspace)) {
      if (!WORKSPACE.matcher(ws).matches()) {
        return Reject.WRONG_WORKSPACE;
      }
      l.lastValidWorkspace = ws;
    }
    boolean validTarget = target.equals(l.lastValidTarget) || RelayWire.validTarget(target);
    if (validTarget) {
      l.lastValidTarget = target;
    }
    return badFields(t, f, validTarget) ? Reject.BAD_FIELD : null;
  }

  /** A route signal names a known kind, a workspace id and a valid target. */
  static boolean validSignal(MeshSignal s) {
    return (s.getKind() == MeshSignalKind.MESH_SIGNAL_KIND_NO_ROUTE
            || s.getKind() == MeshSignalKind.MESH_SIGNAL_KIND_PAUSE
            || s.getKind() == MeshSignalKind.MESH_SIGNAL_KIND_RESUME)
        && WORKSPACE.matcher(s.getWorkspaceId()).matches()
        && RelayWire.validTarget(s.getTargetId());
  }

  private static boolean badFields(FrameType t, RelayFrame f, boolean validTarget) {
    return !validTarget
        || (t != FrameType.FRAME_TYPE_REGISTER && f.getChannelId() == 0)
        || RelayWire.WITH_PAYLOAD.contains(t) == f.getPayload().isEmpty()
        || f.getReason().length() > RelayWire.MAX_REASON_CHARS;
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
