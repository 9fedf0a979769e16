package dev.umbra.kit.http;

import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.Map;

/**
 * Receiving WebSocket frames of tens of KiB (WebTTY DATA frames: up to 64 KiB of ciphertext)
 * without regrowing a buffer for each. A frame longer than one socket read is put together by
 * Netty's frame decoder, which by default merges each read into one buffer: for a 64 KiB frame the
 * first read's buffer is regrown (a new chunk of direct memory, zeroed, and a copy) for nearly
 * every frame. Cumulating the reads as a composite instead keeps them as they were read until the
 * frame is complete; the decoder copies the frame's payload out once either way. The bytes are the
 * same.
 */
public final class LargeFrames {
  /**
   * Reads kept apart per frame at most; beyond, they are merged as before. A peer sending a frame a
   * byte at a time would otherwise have every tiny read kept with its whole read buffer: the memory
   * a connection can pin stays bounded (16 read buffers) and the copying linear.
   */
  static final int MAX_PARTS = 16;

  /** Composite cumulation of up to {@link #MAX_PARTS} reads, merging beyond. */
  public static final ByteToMessageDecoder.Cumulator BOUNDED_COMPOSITE =
      (alloc, cumulation, in) ->
          cumulation instanceof CompositeByteBuf parts && parts.numComponents() >= MAX_PARTS
              ? ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, cumulation, in)
              : ByteToMessageDecoder.COMPOSITE_CUMULATOR.cumulate(alloc, cumulation, in);

  private LargeFrames() {}

  /**
   * Sets the WebSocket frame decoder of {@code connection} (an upgraded HTTP/1.1 connection) to
   * composite cumulation; a connection without one is left as it is.
   */
  public static void receive(HttpConnection connection) {
    if (connection instanceof ConnectionBase c && c.channelHandlerContext() != null) {
      ChannelHandlerContext ctx = c.channelHandlerContext();
      ctx.executor().execute(() -> compositeCumulation(ctx));
    }
  }

  private static void compositeCumulation(ChannelHandlerContext ctx) {
    for (Map.Entry<String, ChannelHandler> e : ctx.pipeline()) {
      if (e.getValue() instanceof WebSocketFrameDecoder
          && e.getValue() instanceof ByteToMessageDecoder decoder) {
        decoder.setCumulator(BOUNDED_COMPOSITE);
      }
    }
  }
}
