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
    return WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).setSessionId("s1")
        .setSealed(Sealed.newBuilder().setCiphertext(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5})).setPlaintextLength(5))
        .build();
  }

  @Test
  void parsesWhatACopyingParseParses() throws Exception {
    byte[] bytes = frame().toByteArray();
    assertThat(Wire.parseAliased(WebTtyFrame.parser(), bytes)).isEqualTo(WebTtyFrame.parseFrom(bytes));
  }

  @Test
  void refusesTruncatedGarbageAndGroupTerminatedInput() {
    byte[] whole = frame().toByteArray();
    assertThatThrownBy(() -> Wire.parseAliased(WebTtyFrame.parser(), Arrays.copyOf(whole, whole.length - 3)))
        .isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> Wire.parseAliased(WebTtyFrame.parser(), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}))
        .isInstanceOf(InvalidProtocolBufferException.class);
    byte[] endGroup = Arrays.copyOf(whole, whole.length + 1);
    endGroup[whole.length] = 0x0c; // END_GROUP of field 1: a copying parse refuses it too
    assertThatThrownBy(() -> Wire.parseAliased(WebTtyFrame.parser(), endGroup)).isInstanceOf(InvalidProtocolBufferException.class);
    assertThatThrownBy(() -> WebTtyFrame.parseFrom(endGroup)).isInstanceOf(InvalidProtocolBufferException.class);
  }
}
