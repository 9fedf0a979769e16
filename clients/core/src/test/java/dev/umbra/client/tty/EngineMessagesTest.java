package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EngineMessagesTest {
  private final List<Buffer> messages = new ArrayList<>();
  private int closed;
  private final EngineMessages reader = new EngineMessages(10, messages::add, () -> closed++);

  @Test
  void aOneFrameMessageIsHandedOnInItsOwnBufferNotCopied() {
    Buffer data = Buffer.buffer("abc");
    reader.handle(WebSocketFrame.binaryFrame(data, true));
    assertThat(messages).hasSize(1);
    assertThat(messages.get(0).toString()).isEqualTo("abc");
    assertThat(messages.get(0).getBytes()).isEqualTo(data.getBytes());
  }

  @Test
  void aFragmentedMessageIsPutTogetherAndTextIsIgnored() {
    reader.handle(WebSocketFrame.textFrame("hi", false));
    reader.handle(WebSocketFrame.continuationFrame(Buffer.buffer("there"), true));
    reader.handle(WebSocketFrame.binaryFrame(Buffer.buffer("ab"), false));
    reader.handle(WebSocketFrame.continuationFrame(Buffer.buffer("cd"), false));
    reader.handle(WebSocketFrame.continuationFrame(Buffer.buffer("e"), true));
    reader.handle(WebSocketFrame.binaryFrame(Buffer.buffer("f"), true));
    assertThat(messages).extracting(Buffer::toString).containsExactly("abcde", "f");
    assertThat(closed).isZero();
  }

  @Test
  void aMessageOverTheLimitClosesTheSocketAndNothingAfterItIsRead() {
    reader.handle(WebSocketFrame.binaryFrame(Buffer.buffer("123456"), false));
    reader.handle(WebSocketFrame.continuationFrame(Buffer.buffer("78901"), false));
    reader.handle(WebSocketFrame.continuationFrame(Buffer.buffer("2"), true));
    reader.handle(WebSocketFrame.binaryFrame(Buffer.buffer("late"), true));
    assertThat(closed).isEqualTo(1);
    assertThat(messages).isEmpty();
  }
}
