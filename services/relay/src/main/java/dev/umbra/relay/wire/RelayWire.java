package dev.umbra.relay.wire;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.umbra.proto.Wire;
import dev.umbra.proto.api.RelayPaths;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every wire constant of the relay in one place (docs/relay.md): endpoint, version, limits and
 * which frame types each side may send. Layout of a frame: one WebSocket binary message holding one
 * {@link RelayFrame} protobuf; the relay never parses {@code payload}.
 */
public final class RelayWire {
  /** The WebSocket endpoint; the version is in the path. */
  public static final String PATH = RelayPaths.RELAY;

  /**
   * The mesh endpoint: other relay instances only (internal credential, and a client certificate
   * where mutual TLS is configured), docs/relay.md "Mesh".
   */
  public static final String MESH_PATH = PATH + "/mesh";

  /**
   * The subprotocol the browser app offers, with its session token in a second one ({@code
   * umbra.bearer.<token>}, the kit's {@code BrowserSocketToken}), and the relay selects and echoes:
   * the token is never sent back. docs/relay.md "Browsers".
   */
  public static final String BROWSER_PROTOCOL = "umbra.relay.v1";

  /** Header naming the relay instance that opens a mesh link. */
  public static final String INSTANCE_HEADER = "X-Umbra-Relay-Instance";

  /**
   * What a mesh message may hold beyond one frame: the batch's origin (an instance id, at most
   * {@link #MAX_INSTANCE_CHARS}), its direction and field tags.
   */
  public static final int MESH_OVERHEAD_BYTES = 256;

  public static final int MAX_INSTANCE_CHARS = 64;
  private static final Pattern INSTANCE = Pattern.compile("[A-Za-z0-9-]{1,64}");

  /**
   * Default maximum size of one WebSocket message (one frame): a 65535-byte Noise message plus
   * envelope.
   */
  public static final int DEFAULT_MAX_FRAME_BYTES = 72 * 1024;

  /** Smallest maximum an operator may configure (a handshake must fit). */
  public static final int MIN_MAX_FRAME_BYTES = 1024;

  public static final int MAX_TARGET_CHARS = 128;
  public static final int MAX_REASON_CHARS = 64;
  private static final Pattern TARGET =
      Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_TARGET_CHARS + "}");

  /** Types a daemon (machine token) may send. */
  public static final Set<FrameType> FROM_DAEMON =
      EnumSet.of(
          FrameType.FRAME_TYPE_REGISTER,
          FrameType.FRAME_TYPE_ACCEPT,
          FrameType.FRAME_TYPE_DATA,
          FrameType.FRAME_TYPE_ACK,
          FrameType.FRAME_TYPE_RESUME,
          FrameType.FRAME_TYPE_CLOSE);

  /** Types a client (member token) may send. */
  public static final Set<FrameType> FROM_CLIENT =
      EnumSet.of(
          FrameType.FRAME_TYPE_OPEN,
          FrameType.FRAME_TYPE_DATA,
          FrameType.FRAME_TYPE_ACK,
          FrameType.FRAME_TYPE_RESUME,
          FrameType.FRAME_TYPE_CLOSE);

  /** Types whose payload must be non-empty; every other type must carry none. */
  public static final Set<FrameType> WITH_PAYLOAD =
      EnumSet.of(FrameType.FRAME_TYPE_OPEN, FrameType.FRAME_TYPE_ACCEPT, FrameType.FRAME_TYPE_DATA);

  private RelayWire() {}

  /**
   * Parses one frame straight from the message's bytes: the payload is a view of them, not a copy
   * (the relay never reads it, and a message buffer handed to a handler is never reused).
   */
  public static RelayFrame parse(Buffer message) throws InvalidProtocolBufferException {
    return parseInPlace(RelayFrame.parser(), message);
  }

  /** A batch from another instance, parsed the same way. */
  public static RelayBusBatch parseBatch(Buffer message) throws InvalidProtocolBufferException {
    return parseInPlace(RelayBusBatch.parser(), message);
  }

  private static <T extends MessageLite> T parseInPlace(Parser<T> parser, Buffer message)
      throws InvalidProtocolBufferException {
    ByteBuf b = message instanceof BufferInternal internal ? internal.getByteBuf() : null;
    return b != null && b.hasArray()
        ? Wire.parseAliased(parser, b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes())
        : Wire.parseAliased(parser, message.getBytes());
  }

  /** Tag of {@code RelayBusBatch.frames} (field 2, length-delimited). */
  private static final int BATCH_FRAMES_TAG = (RelayBusBatch.FRAMES_FIELD_NUMBER << 3) | 2;

  /**
   * Where each frame of a batch sits in its message, in order: offset and length of the frame's
   * bytes, two ints a frame. A frame from a mesh link is written on as these bytes, a view of the
   * message, instead of being serialized again: what the peer sent is what was checked ({@link
   * #parseBatch} of the same bytes), byte for byte.
   */
  public static int[] batchFrameSpans(Buffer message, int frames)
      throws InvalidProtocolBufferException {
    ByteBuf b = message instanceof BufferInternal internal ? internal.getByteBuf() : null;
    byte[] array = b != null && b.hasArray() ? b.array() : message.getBytes();
    int offset = b != null && b.hasArray() ? b.arrayOffset() + b.readerIndex() : 0;
    CodedInputStream in = CodedInputStream.newInstance(array, offset, message.length());
    int[] spans = new int[2 * frames];
    int n = 0;
    try {
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (tag != BATCH_FRAMES_TAG) {
          in.skipField(tag);
          continue;
        }
        int length = in.readRawVarint32();
        if (n == 2 * frames) {
          throw new InvalidProtocolBufferException("more frames than parsed");
        }
        spans[n++] = in.getTotalBytesRead();
        spans[n++] = length;
        in.skipRawBytes(length);
      }
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    if (n != 2 * frames) {
      throw new InvalidProtocolBufferException("fewer frames than parsed");
    }
    return spans;
  }

  /**
   * The field tag and length that put a frame of {@code length} bytes into a batch message: with
   * the frame's bytes after it, one {@code RelayBusBatch.frames} field, so a batch is written as
   * its parts (the frames as they came in) without serializing them again.
   */
  public static ByteBuf frameFieldPrefix(int length) {
    byte[] prefix = new byte[1 + CodedOutputStream.computeUInt32SizeNoTag(length)];
    CodedOutputStream out = CodedOutputStream.newInstance(prefix);
    try {
      out.writeUInt32NoTag(BATCH_FRAMES_TAG);
      out.writeUInt32NoTag(length);
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException(e); // the array is sized for exactly these bytes
    }
    return Unpooled.wrappedBuffer(prefix);
  }

  /**
   * A message to write, wrapping {@code bytes} (just serialized, never touched again) instead of
   * copying them as {@code Buffer.buffer(byte[])} does.
   */
  public static Buffer wrap(byte[] bytes) {
    return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes));
  }

  public static boolean validTarget(String target) {
    return target != null && TARGET.matcher(target).matches();
  }

  /** An instance id as a peer may name one: {@code [A-Za-z0-9-]{1,64}}. */
  public static boolean validInstance(String instance) {
    return instance != null && INSTANCE.matcher(instance).matches();
  }

  /** Metric tag of a frame type: {@code data}, {@code open}, ... */
  public static String tag(FrameType type) {
    return type == FrameType.UNRECOGNIZED
        ? "unknown"
        : type.name().substring("FRAME_TYPE_".length()).toLowerCase();
  }
}
