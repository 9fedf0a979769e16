package dev.umbra.kit.http;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketFrame;

/**
 * A WebSocket's binary messages without the copy Vert.x's message handler makes of each one: {@code
 * binaryMessageHandler} hands over a copy of the message it has just assembled, even when the
 * message is one frame whose bytes are already a heap buffer of their own (for WebTTY, 64 KiB per
 * DATA frame at every hop). Set as the socket's frame handler instead of the message handlers: a
 * message of one frame is handed over as it is; a fragmented one is assembled, up to {@code
 * maxMessageBytes}. Over that limit {@code onError} gets the same exception Vert.x's own assembler
 * raises ({@link WebSockets#isTooBig}), and the socket is closed 1009 as before. A text message
 * calls {@code onText} once. Ping, pong and close stay Vert.x's.
 */
public final class BinaryMessages implements Handler<WebSocketFrame> {
  private final int maxMessageBytes;
  private final Handler<Buffer> onMessage;
  private final Runnable onText;
  private final Handler<Throwable> onError;
  private Buffer assembling; // a fragmented binary message so far
  private boolean inText; // inside a fragmented text message
  private boolean failed;

  private BinaryMessages(
      int maxMessageBytes, Handler<Buffer> onMessage, Runnable onText, Handler<Throwable> onError) {
    this.maxMessageBytes = maxMessageBytes;
    this.onMessage = onMessage;
    this.onText = onText;
    this.onError = onError;
  }

  /**
   * Reads {@code ws}'s messages through a new instance; {@code onError} is also set as the socket's
   * exception handler.
   */
  public static void read(
      WebSocketBase ws,
      int maxMessageBytes,
      Handler<Buffer> onMessage,
      Runnable onText,
      Handler<Throwable> onError) {
    ws.exceptionHandler(onError);
    ws.frameHandler(new BinaryMessages(maxMessageBytes, onMessage, onText, onError));
  }

  @Override
  public void handle(WebSocketFrame f) {
    if (failed) {
      return;
    }
    if (f.isText() || (f.isContinuation() && inText)) {
      if (f.isText()) {
        onText.run();
      }
      inText = !f.isFinal();
      return;
    }
    if (!f.isBinary() && !f.isContinuation()) {
      return; // ping, pong, close
    }
    Buffer data = f.binaryData();
    if (assembling == null && f.isFinal()) {
      if (data.length() > maxMessageBytes) {
        tooBig(data.length());
        return;
      }
      onMessage.handle(data); // one frame: its own buffer, no copy
      return;
    }
    if (assembling == null) {
      assembling = Buffer.buffer(Math.min(maxMessageBytes, 2 * data.length()));
    }
    if (assembling.length() + data.length() > maxMessageBytes) {
      tooBig(assembling.length() + data.length());
      return;
    }
    assembling.appendBuffer(data);
    if (f.isFinal()) {
      Buffer message = assembling;
      assembling = null;
      onMessage.handle(message);
    }
  }

  private void tooBig(int length) {
    failed = true;
    assembling = null;
    // the wording of Vert.x's own assembler, which WebSockets.isTooBig recognises
    onError.handle(
        new IllegalStateException(
            "Cannot process message of size "
                + length
                + " overflow max message size "
                + maxMessageBytes));
  }
}
