package dev.umbra.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.proto.webtty.Sealed;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Aliased parsing reads exactly what a copying parse reads, and refuses what it refuses. */
class WireTest {
  private static WebTtyFrame frame() {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
        .setSessionId("s1")
        .setSealed(
            Sealed.newBuilder()
                .setCiphertext(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5}))
                .setPlaintextLength(5))
        .build();
  }

  @Test
  void parsesWhatACopyingParseParses() throws Exception {
    byte[] bytes = frame().toByteArray();
    assertThat(Wire.parseAliased(WebTtyFrame.parser(), bytes))
        .isEqualTo(WebTtyFrame.parseFrom(bytes));
  }

  @Test
  void bytesFieldsAreViewsOfTheInputNotCopies() throws Exception {
    byte[] bytes = frame().toByteArray();
    WebTtyFrame parsed = Wire.parseAliased(WebTtyFrame.parser(), bytes);
    int at = indexOf(bytes, new byte[] {1, 2, 3, 4, 5}) + 4; // the ciphertext's last byte
    bytes[at] = 9; // only to observe sharing: callers never change what they parsed
    assertThat(parsed.getSealed().getCiphertext().byteAt(4)).isEqualTo((byte) 9);
  }

  private static int indexOf(byte[] in, byte[] part) {
    for (int i = 0; i + part.length <= in.length; i++) {
      if (Arrays.equals(in, i, i + part.length, part, 0, part.length)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  @Test
  void aSliceOfAnAliasedFieldIsWhereItLiesInTheReceivedBytes() throws Exception {
    byte[] whole = frame().toByteArray();
    byte[] padded = new byte[whole.length + 7];
    System.arraycopy(whole, 0, padded, 3, whole.length);
    WebTtyFrame parsed = Wire.parseAliased(WebTtyFrame.parser(), padded, 3, whole.length);
    Wire.Slice s = Wire.slice(parsed.getSealed().getCiphertext());
    assertThat(s.array()).isSameAs(padded);
    assertThat(Arrays.copyOfRange(s.array(), s.offset(), s.offset() + s.length()))
        .containsExactly(1, 2, 3, 4, 5);
    Wire.Slice rope =
        Wire.slice(
            ByteString.copyFrom(new byte[] {1, 2}).concat(ByteString.copyFrom(new byte[] {3})));
    assertThat(Arrays.copyOfRange(rope.array(), rope.offset(), rope.offset() + rope.length()))
        .containsExactly(1, 2, 3);
  }

  @Test
  void parsesAViewAtAnOffset() throws Exception {
    byte[] whole = frame().toByteArray();
    byte[] padded = new byte[whole.length + 7];
    System.arraycopy(whole, 0, padded, 3, whole.length);
    assertThat(Wire.parseAliased(WebTtyFrame.parser(), padded, 3, whole.length)).isEqualTo(frame());
  }

  @Test
  void refusesTruncatedGarbageAndGroupTerminatedInput() {
    byte[] whole = frame().toByteArray();
    assertThatThrownBy(
            () -> Wire.parseAliased(WebTtyFrame.parser(), Arrays.copyOf(whole, whole.length - 3)))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(
            () ->
                Wire.parseAliased(
                    WebTtyFrame.parser(), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}))
        .isInstanceOf(InvalidProtocolBufferException.class);
    byte[] endGroup = Arrays.copyOf(whole, whole.length + 1);
    endGroup[whole.length] = 0x0c; // END_GROUP of field 1: a copying parse refuses it too
    assertThatThrownBy(() -> Wire.parseAliased(WebTtyFrame.parser(), endGroup))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> WebTtyFrame.parseFrom(endGroup))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }
}
