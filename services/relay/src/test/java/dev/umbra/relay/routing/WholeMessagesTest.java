package dev.umbra.relay.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A connection's frames become whole binary messages for the relay (docs/relay.md, "Limits"): one
 * frame as it came, fragments put together up to the message limit, a longer message and a text
 * frame reported, control frames left to Vert.x.
 */
class WholeMessagesTest {
  private final List<Buffer> messages = new ArrayList<>();
  private int texts;
  private int oversized;
  private final WholeMessages whole =
      new WholeMessages(10, messages::add, () -> texts++, () -> oversized++);

  private static Buffer bytes(String s) {
    return Buffer.buffer(s);
  }

  @Test
  void aMessageOfOneFrameIsHandedOverAsTheFramesDataWithoutACopy() {
    WebSocketFrame frame = WebSocketFrame.binaryFrame(bytes("abc"), true);
    whole.handle(frame);
    assertThat(messages).containsExactly(bytes("abc"));
    assertThat(((BufferInternal) messages.getFirst()).getByteBuf().array())
        .isSameAs(((BufferInternal) frame.binaryData()).getByteBuf().array());
  }

  @Test
  void fragmentsArePutTogetherInOrder() {
    whole.handle(WebSocketFrame.binaryFrame(bytes("ab"), false));
    whole.handle(WebSocketFrame.continuationFrame(bytes("cd"), false));
    assertThat(messages).isEmpty();
    whole.handle(WebSocketFrame.continuationFrame(bytes("ef"), true));
    whole.handle(WebSocketFrame.binaryFrame(bytes("g"), true));
    assertThat(messages).containsExactly(bytes("abcdef"), bytes("g"));
    assertThat(oversized).isZero();
  }

  @Test
  void aFragmentedMessageOverTheLimitIsDroppedAndReportedOnce() {
    whole.handle(WebSocketFrame.binaryFrame(bytes("123456"), false));
    whole.handle(WebSocketFrame.continuationFrame(bytes("7890x"), false));
    whole.handle(WebSocketFrame.continuationFrame(bytes("yz"), true));
    assertThat(messages).isEmpty();
    assertThat(oversized).isEqualTo(1);
    // the next message is read again
    whole.handle(WebSocketFrame.binaryFrame(bytes("ok"), true));
    assertThat(messages).containsExactly(bytes("ok"));
  }

  @Test
  void aMessageOfExactlyTheLimitPasses() {
    whole.handle(WebSocketFrame.binaryFrame(bytes("12345"), false));
    whole.handle(WebSocketFrame.continuationFrame(bytes("67890"), true));
    assertThat(messages).containsExactly(bytes("1234567890"));
    assertThat(oversized).isZero();
  }

  @Test
  void aTextFrameIsReportedAndItsContinuationsIgnored() {
    whole.handle(WebSocketFrame.textFrame("hi", false));
    whole.handle(WebSocketFrame.continuationFrame(bytes("there"), true));
    assertThat(texts).isEqualTo(1);
    assertThat(messages).isEmpty();
  }

  @Test
  void controlFramesAreNotMessages() {
    whole.handle(WebSocketFrame.pingFrame(bytes("p")));
    whole.handle(WebSocketFrame.pongFrame(bytes("p")));
    assertThat(messages).isEmpty();
    assertThat(texts + oversized).isZero();
  }
}
