package dev.umbra.kit.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.umbra.proto.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Protobuf messages in and out of WebSocket binary messages without copying their bytes once more
 * (WebTTY frames carry up to 64 KiB of ciphertext and pass three hops: each copy is per frame and
 * per hop).
 */
public final class WsMessages {
  private WsMessages() {}

  /**
   * Parses a received binary message whole, its bytes fields views of the message's own array
   * (Vert.x hands each received message over in a heap buffer of its own that nothing else writes).
   * Truncated or malformed input is refused as {@link Wire#parseAliased} refuses it.
   */
  public static <T extends MessageLite> T parse(Parser<T> parser, Buffer message)
      throws InvalidProtocolBufferException {
    ByteBuf b = message instanceof BufferInternal internal ? internal.getByteBuf() : null;
    return b != null && b.hasArray()
        ? Wire.parseAliased(parser, b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes())
        : Wire.parseAliased(parser, message.getBytes());
  }

  /**
   * {@code bytes} as a buffer to write, wrapped, not copied ({@code Buffer.buffer(byte[])} copies).
   */
  public static Buffer wrap(byte[] bytes) {
    return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes));
  }

  /** A message serialized once, as a buffer to write. */
  public static Buffer of(MessageLite message) {
    return wrap(message.toByteArray());
  }
}
