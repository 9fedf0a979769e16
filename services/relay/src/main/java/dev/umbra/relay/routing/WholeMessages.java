package dev.umbra.relay.routing;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;

/**
 * Whole binary WebSocket messages from a connection's frames, for {@code frameHandler}. Vert.x's
 * {@code binaryMessageHandler} copies every message once more before handing it over, even a
 * message of one frame whose data is already a copy of its own (a 32 KiB frame: 32 KiB copied and
 * allocated for nothing). Here a message of one frame is handed over as the frame's data; only a
 * fragmented message is put together, bounded by {@code maxBytes} (the server's message limit): a
 * longer one is dropped as it grows and reported once. A text frame is reported and everything
 * after it ignored (the caller closes the connection). Control frames are Vert.x's (ping, pong,
 * close); they pass by here unlooked at.
 */
final class WholeMessages implements Handler<WebSocketFrame> {
  private final int maxBytes;
  private final Handler<Buffer> binary;
  private final Runnable text;
  private final Runnable oversized;
  private Buffer partial;
  private boolean ignoring;

  WholeMessages(int maxBytes, Handler<Buffer> binary, Runnable text, Runnable oversized) {
    this.maxBytes = maxBytes;
    this.binary = binary;
    this.text = text;
    this.oversized = oversized;
  }

  @Override
  public void handle(WebSocketFrame frame) {
    if (frame.isText()) {
      partial = null;
      ignoring = true;
      text.run();
    } else if (frame.isBinary()) {
      ignoring = false;
      partial = null;
      if (frame.isFinal()) {
        binary.handle(frame.binaryData());
      } else {
        partial = Buffer.buffer(Math.min(maxBytes, 2 * frame.binaryData().length()));
        append(frame);
      }
    } else if (frame.isContinuation() && !ignoring && partial != null) {
      append(frame);
      if (partial != null && frame.isFinal()) {
        Buffer message = partial;
        partial = null;
        binary.handle(message);
      }
    }
  }

  private void append(WebSocketFrame frame) {
    Buffer data = frame.binaryData();
    if (partial.length() + data.length() > maxBytes) {
      partial = null;
      ignoring = true; // the rest of this message, up to the next data frame
      oversized.run();
      return;
    }
    partial.appendBuffer(data);
  }
}
