package dev.umbra.relay.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.umbra.proto.Wire;
import dev.umbra.proto.api.RelayPaths;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
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
