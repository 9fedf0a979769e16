package dev.umbra.relay.routing;

import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;
import dev.umbra.relay.wire.RelayWire;

/**
 * The frames the relay itself writes to a peer (docs/relay.md): ERROR and a channel CLOSE, their
 * reason always a {@link RelayReason}.
 */
final class RelayFrames {
  private RelayFrames() {}

  /** ERROR for a refused frame, naming its channel, target and sequence when it had them. */
  static RelayFrame error(String workspace, RelayFrame f, RelayReason reason) {
    RelayFrame.Builder b =
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_ERROR)
            .setWorkspaceId(workspace)
            .setReason(RelayReasons.wire(reason));
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
  static RelayFrame close(String workspace, RelayFrame f, RelayReason reason) {
    return RelayFrame.newBuilder()
        .setType(FrameType.FRAME_TYPE_CLOSE)
        .setWorkspaceId(workspace)
        .setTargetId(f.getTargetId())
        .setChannelId(f.getChannelId())
        .setReason(RelayReasons.wire(reason))
        .build();
  }
}
