package dev.umbra.relay.testing;

import com.google.protobuf.ByteString;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import java.util.UUID;

/** Relay frames as tests send them. */
public final class TestFrames {
  private TestFrames() {}

  /** A frame of {@code type} for a channel of {@code target} (no payload when null). */
  public static RelayFrame frame(
      FrameType type, UUID workspace, String target, long channel, byte[] payload) {
    RelayFrame.Builder f =
        RelayFrame.newBuilder()
            .setType(type)
            .setWorkspaceId(workspace.toString())
            .setTargetId(target)
            .setChannelId(channel);
    if (payload != null) {
      f.setPayload(ByteString.copyFrom(payload));
    }
    return f.build();
  }
}
