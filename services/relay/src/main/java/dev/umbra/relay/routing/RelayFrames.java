package dev.umbra.relay.routing;

import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.wire.RelayWire;

/** The frames the relay itself writes to a peer (docs/relay.md): ERROR and a channel CLOSE. */
final class RelayFrames {
  private RelayFrames() {}

  /** ERROR for a refused frame, naming its channel, target and sequence when it had them. */
  static RelayFrame error(String workspace, RelayFrame f, String reason) {
    RelayFrame.Builder b =
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_ERROR)
            .setWorkspaceId(workspace)
            .setReason(reason);
    if (f != null) {
      b.setChannelId(f.getChannelId());
      if (RelayWire.validTarget(f.getTargetId())) {
        b.setTargetId(f.getTargetId());
      }
      b.setSequence(f.getSequence());
    }
    return b.build();
  }

  /** CLOSE of a channel, from the relay (the target is unknown or the bus is down). */
  static RelayFrame close(String workspace, RelayFrame f, String reason) {
    return RelayFrame.newBuilder()
        .setType(FrameType.FRAME_TYPE_CLOSE)
        .setWorkspaceId(workspace)
        .setTargetId(f.getTargetId())
        .setChannelId(f.getChannelId())
        .setReason(reason)
        .build();
  }
}
