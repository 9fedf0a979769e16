package dev.umbra.client.tty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.internal.http.WebSocketInternal;

/**
 * The engine socket's binary messages, read from its frames: a message that came as one frame (the
 * engine sends each WebTTY frame so) is handed on in the buffer Vert.x decoded it into, where
 * {@code binaryMessageHandler} would copy it first (64 KiB per DATA frame). A fragmented message (a
 * proxy may split one) is put together up to {@code maxBytes}; over that the socket is closed 1009,
 * as Vert.x does. Text messages are ignored, as before; ping, pong and close stay Vert.x's.
 */
final class EngineMessages implements Handler<WebSocketFrame> {
  private final int maxBytes;
  private final Handler<Buffer> onMessage;
  private final Runnable tooBig;
  private Buffer parts; // a fragmented binary message so far
  private boolean text; // inside a fragmented text message
  private boolean over; // a message was too big: nothing more is read

  /** {@code tooBig} closes the socket (1009). */
  EngineMessages(int maxBytes, Handler<Buffer> onMessage, Runnable tooBig) {
    this.maxBytes = maxBytes;
    this.onMessage = onMessage;
    this.tooBig = tooBig;
  }

  /**
   * Has {@code socket}'s frame decoder keep a frame's socket reads as a composite until the frame
   * is complete, instead of regrowing one buffer (a new zeroed chunk of direct memory and a copy
   * for every 64 KiB DATA frame that spans reads, which they all do); it copies the payload out
   * once either way. The engine's sockets do the same (service-kit {@code LargeFrames}).
   */
  static void readLargeFrames(WebSocket socket) {
    ChannelHandlerContext ctx =
        socket instanceof WebSocketInternal internal ? internal.channelHandlerContext() : null;
    if (ctx != null) {
      ctx.executor()
          .execute(
              () ->
                  ctx.pipeline()
                      .forEach(
                          e -> {
                            if (e.getValue() instanceof WebSocketFrameDecoder
                                && e.getValue() instanceof ByteToMessageDecoder d) {
                              d.setCumulator(EngineMessages::cumulate);
                            }
                          }));
    }
  }

  /**
   * Composite cumulation of up to 16 reads per frame, merging beyond: an engine sending a frame a
   * byte at a time cannot have every tiny read kept with its whole read buffer.
   */
  private static ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
    boolean manyParts = cumulation instanceof CompositeByteBuf c && c.numComponents() >= 16;
    return (manyParts
            ? ByteToMessageDecoder.MERGE_CUMULATOR
            : ByteToMessageDecoder.COMPOSITE_CUMULATOR)
        .cumulate(alloc, cumulation, in);
  }

  @Override
  public void handle(WebSocketFrame f) {
    boolean continued = f.isContinuation();
    if (over) {
      return;
    }
    if (f.isText() || (continued && text)) {
      text = !f.isFinal();
      return;
    }
    if (!f.isBinary() && !continued) {
      return;
    }
    Buffer data = f.binaryData();
    int total = (parts == null ? 0 : parts.length()) + data.length();
    if (total > maxBytes) {
      parts = null;
      over = true;
      tooBig.run();
    } else if (parts == null && f.isFinal()) {
      onMessage.handle(data); // one frame: its own buffer, not copied
    } else {
      parts = parts == null ? Buffer.buffer(2 * data.length()) : parts;
      parts.appendBuffer(data);
      if (f.isFinal()) {
        Buffer whole = parts;
        parts = null;
        onMessage.handle(whole);
      }
    }
  }
}
