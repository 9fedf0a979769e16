package dev.umbra.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.buffer.Buffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The relay's envelope parser reads frames in place; bad bytes are refused, never half-read. */
class RelayWireTest {
  private static RelayFrame frame() {
    return RelayFrame.newBuilder()
        .setType(FrameType.FRAME_TYPE_DATA)
        .setWorkspaceId("w")
        .setTargetId("t")
        .setChannelId(7)
        .setSequence(3)
        .setPayload(ByteString.copyFrom(new byte[] {1, 2, 3, 4}))
        .build();
  }

  @Test
  void parsesAFrameFromAMessageBuffer() throws Exception {
    // a buffer whose bytes do not start at offset 0 of its array, as a slice of a larger read would
    Buffer message =
        Buffer.buffer()
            .appendBytes(new byte[] {9, 9})
            .appendBytes(frame().toByteArray())
            .slice(2, 2 + frame().getSerializedSize());
    assertThat(RelayWire.parse(message)).isEqualTo(frame());
    assertThat(RelayWire.parse(Buffer.buffer(frame().toByteArray()))).isEqualTo(frame());
  }

  @Test
  void parsesABusBatch() throws Exception {
    RelayBusBatch b =
        RelayBusBatch.newBuilder().setOrigin("i1").addFrames(frame()).addFrames(frame()).build();
    assertThat(RelayWire.parseBatch(Buffer.buffer(b.toByteArray()))).isEqualTo(b);
  }

  @Test
  void rejectsTruncatedGarbageAndGroupTerminatedInput() {
    byte[] whole = frame().toByteArray();
    assertThatThrownBy(() -> RelayWire.parse(Buffer.buffer(Arrays.copyOf(whole, whole.length - 2))))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(
            () ->
                RelayWire.parse(
                    Buffer.buffer(
                        new byte[] {
                          (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff
                        })))
        .isInstanceOf(InvalidProtocolBufferException.class);
    // an END_GROUP tag (field 1, wire type 4) would end a top-level parse early without this check
    byte[] withEndGroup =
        Buffer.buffer(whole).appendByte((byte) 0x0c).appendBytes(whole).getBytes();
    assertThatThrownBy(() -> RelayWire.parse(Buffer.buffer(withEndGroup)))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> RelayWire.parseBatch(Buffer.buffer(new byte[] {0x0a, 0x7f})))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }

  @Test
  void aBatchsFrameSpansAreItsFramesBytesAndATruncatedOrMiscountedBatchIsRefused()
      throws Exception {
    RelayFrame a =
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_DATA)
            .setTargetId("m1")
            .setChannelId(3)
            .setPayload(ByteString.copyFromUtf8("first"))
            .build();
    RelayFrame b = a.toBuilder().setChannelId(4).setPayload(ByteString.copyFromUtf8("two")).build();
    byte[] bytes =
        RelayBusBatch.newBuilder().setOrigin("01X").addFrames(a).addFrames(b).build().toByteArray();
    Buffer message = Buffer.buffer(bytes);
    int[] spans = RelayWire.batchFrameSpans(message, 2);
    assertThat(message.slice(spans[0], spans[0] + spans[1]).getBytes()).isEqualTo(a.toByteArray());
    assertThat(message.slice(spans[2], spans[2] + spans[3]).getBytes()).isEqualTo(b.toByteArray());
    assertThatThrownBy(() -> RelayWire.batchFrameSpans(message, 1))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> RelayWire.batchFrameSpans(message, 3))
        .isInstanceOf(InvalidProtocolBufferException.class);
    Buffer truncated = Buffer.buffer(Arrays.copyOf(bytes, bytes.length - 2));
    assertThatThrownBy(() -> RelayWire.batchFrameSpans(truncated, 2))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }
}
