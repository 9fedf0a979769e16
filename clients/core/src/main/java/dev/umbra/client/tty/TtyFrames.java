package dev.umbra.client.tty;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.Wire;
import dev.umbra.proto.webtty.Sealed;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.internal.buffer.BufferInternal;

/** Conversions between umbra-crypto's WebTTY values and the protobuf frames (docs/webtty.md). */
public final class TtyFrames {
  /** Largest plaintext per DATA frame (the engine refuses more). */
  public static final int MAX_PLAINTEXT = 64 * 1024;

  /** Largest WebSocket message the engine accepts. */
  public static final int MAX_FRAME_BYTES = 96 * 1024;

  private TtyFrames() {}

  /**
   * The WebSocket client options of both ends' connections to the engine (the client's and the
   * daemon's): frames and messages up to twice {@link #MAX_FRAME_BYTES}, and never compression.
   */
  public static WebSocketClientOptions engineSocketOptions() {
    return new WebSocketClientOptions()
        .setMaxFrameSize(MAX_FRAME_BYTES * 2)
        .setMaxMessageSize(MAX_FRAME_BYTES * 2)
        // never offer compression: the engine does not inflate, and neither do we
        // (docs/security.md)
        .setTryUsePerMessageCompression(false)
        .setTryUsePerFrameCompression(false);
  }

  /**
   * Parses a received frame whole, in place: Vert.x hands each message over in a heap buffer of its
   * own that nothing else writes, so the frame's bytes fields (up to 64 KiB of ciphertext) are
   * views of it rather than copies. Refuses what {@link Wire#parseAliased} refuses.
   */
  public static WebTtyFrame parse(Buffer message) throws InvalidProtocolBufferException {
    ByteBuf b = message instanceof BufferInternal internal ? internal.getByteBuf() : null;
    return b != null && b.hasArray()
        ? Wire.parseAliased(
            WebTtyFrame.parser(), b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes())
        : Wire.parseAliased(WebTtyFrame.parser(), message.getBytes());
  }

  public static dev.umbra.proto.webtty.KeyGrant toProto(KeyGrant g) {
    return dev.umbra.proto.webtty.KeyGrant.newBuilder()
        .setRecipientKeyId(ByteString.copyFrom(g.recipientKeyId().toBytes()))
        .setKeyRole(g.role().wireName())
        .setPayloadSuite(g.payloadSuite().wireName())
        .setKeyEnvelopeSuite(g.keyEnvelopeSuite().wireName())
        .setPayloadKeyId(ByteString.copyFrom(g.payloadKeyId().toBytes()))
        .setEnc(ByteString.copyFrom(g.enc()))
        .setCiphertext(ByteString.copyFrom(g.ciphertext()))
        .build();
  }

  public static KeyGrant fromProto(dev.umbra.proto.webtty.KeyGrant g) {
    return KeyGrant.fromWire(
        g.getRecipientKeyId().toByteArray(),
        g.getKeyRole(),
        g.getPayloadSuite(),
        g.getKeyEnvelopeSuite(),
        g.getPayloadKeyId().toByteArray(),
        g.getEnc().toByteArray(),
        g.getCiphertext().toByteArray());
  }

  public static Sealed toProto(SealedPayload p) {
    return Sealed.newBuilder()
        .setPayloadSuite(p.suite().wireName())
        .setPayloadKeyId(ByteString.copyFrom(p.payloadKeyId().toBytes()))
        .setSenderKeyId(ByteString.copyFrom(p.senderKeyId().toBytes()))
        .setCounter(p.counter())
        .setNonce(ByteString.copyFrom(p.nonce()))
        // ciphertext() is already a fresh copy, so it is wrapped rather than copied again
        .setCiphertext(UnsafeByteOperations.unsafeWrap(p.ciphertext()))
        .setPlaintextLength(p.plaintextLength())
        .build();
  }

  /**
   * Rejects unknown suites and streams (UnsupportedSuiteException / MalformedInputException), and a
   * v1 payload (no 16-byte sender key id).
   */
  public static SealedPayload fromProto(TtyStream stream, Sealed s) {
    return fromProto(stream(stream), s);
  }

  /** As above for a stream given directly (a resize is sealed as {@link Stream#RESIZE}). */
  public static SealedPayload fromProto(Stream stream, Sealed s) {
    return fromProto(stream, s, s.getCiphertext().toByteArray());
  }

  /**
   * As {@link #fromProto(TtyStream, Sealed)} but without copying the ciphertext (an empty array in
   * its place): open it with {@code PayloadCipher.open(payload, ...)} from {@link
   * #ciphertext(Sealed)}, the frame's own bytes.
   */
  public static SealedPayload headerFromProto(TtyStream stream, Sealed s) {
    return fromProto(stream(stream), s, NO_BYTES);
  }

  /** Where the ciphertext of {@code s} lies (in a frame parsed in place: the frame's array). */
  public static Wire.Slice ciphertext(Sealed s) {
    return Wire.slice(s.getCiphertext());
  }

  private static final byte[] NO_BYTES = new byte[0];

  private static SealedPayload fromProto(Stream stream, Sealed s, byte[] ciphertext) {
    return SealedPayload.fromWire(
        stream.wireName(),
        s.getPayloadSuite(),
        s.getPayloadKeyId().toByteArray(),
        s.getSenderKeyId().toByteArray(),
        s.getCounter(),
        s.getNonce().toByteArray(),
        ciphertext,
        s.getPlaintextLength());
  }

  /** A resize's plaintext: {@code u32be(cols) u32be(rows)}. */
  public static byte[] resizePlaintext(int cols, int rows) {
    return java.nio.ByteBuffer.allocate(8).putInt(cols).putInt(rows).array();
  }

  /** Decodes a resize plaintext to {cols, rows}, each clamped to 1..10 000; null if not 8 bytes. */
  public static int[] resizeFrom(byte[] plain) {
    if (plain.length != 8) {
      return null;
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(plain);
    long cols = Integer.toUnsignedLong(b.getInt());
    long rows = Integer.toUnsignedLong(b.getInt());
    return new int[] {
      (int) Math.min(10_000, Math.max(1, cols)), (int) Math.min(10_000, Math.max(1, rows))
    };
  }

  public static Stream stream(TtyStream s) {
    return switch (s) {
      case TTY_STREAM_STDIN -> Stream.STDIN;
      case TTY_STREAM_STDOUT -> Stream.STDOUT;
      case TTY_STREAM_STDERR -> Stream.STDERR;
      default -> throw new dev.umbra.crypto.MalformedInputException("unknown WebTTY stream " + s);
    };
  }

  public static TtyStream stream(Stream s) {
    return switch (s) {
      case STDIN -> TtyStream.TTY_STREAM_STDIN;
      case STDOUT -> TtyStream.TTY_STREAM_STDOUT;
      case STDERR -> TtyStream.TTY_STREAM_STDERR;
      // a resize travels in a RESIZE frame, not in DATA: it has no TtyStream
      case RESIZE -> TtyStream.TTY_STREAM_UNSPECIFIED;
    };
  }
}
