package dev.umbra.proto;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Parsing of messages received from outside. */
public final class Wire {
  private Wire() {}

  /**
   * Parses {@code bytes} whole, with the message's bytes fields as views of {@code bytes} instead
   * of copies (ciphertext that is only passed on need not be copied once more). The caller must own
   * {@code bytes} and never change them afterwards. Truncated, malformed or group-terminated input
   * is refused.
   */
  public static <T extends MessageLite> T parseAliased(Parser<T> parser, byte[] bytes)
      throws InvalidProtocolBufferException {
    return parseAliased(parser, bytes, 0, bytes.length);
  }

  /** {@link #parseAliased(Parser, byte[])} of {@code length} bytes at {@code offset}. */
  public static <T extends MessageLite> T parseAliased(
      Parser<T> parser, byte[] bytes, int offset, int length)
      throws InvalidProtocolBufferException {
    // an input marked immutable: CodedInputStream.newInstance(byte[], ...) marks its buffer
    // mutable,
    // and readBytes() then copies every bytes field whatever enableAliasing says
    CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes, offset, length).newCodedInput();
    in.enableAliasing(true);
    T message = parser.parseFrom(in);
    in.checkLastTagWas(0);
    return message;
  }

  /**
   * Where a bytes field's content lies: {@code array[offset, offset + length)}. For a field of a
   * message parsed by {@link #parseAliased} that is the received message's own array (a view, not a
   * copy: read it, never change it).
   */
  public record Slice(byte[] array, int offset, int length) {}

  /**
   * The bytes of {@code bytes} as one {@link Slice} of the array behind it when there is one (an
   * aliased or wrapped field), else of a copy.
   */
  public static Slice slice(ByteString bytes) {
    SliceOutput out = new SliceOutput();
    try {
      UnsafeByteOperations.unsafeWriteTo(bytes, out);
    } catch (IOException e) {
      throw new IllegalStateException(e); // SliceOutput does not throw
    }
    return out.pieces == 1 ? out.slice : new Slice(bytes.toByteArray(), 0, bytes.size());
  }

  /** Takes the array a ByteString hands over; more than one piece (a rope) is copied instead. */
  private static final class SliceOutput extends ByteOutput {
    int pieces;
    Slice slice = new Slice(new byte[0], 0, 0);

    @Override
    public void write(byte value) {
      pieces = 2;
    }

    @Override
    public void write(byte[] value, int offset, int length) {
      pieces = 2; // not promised to stay unchanged: copied by slice()
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
      pieces++;
      slice = new Slice(value, offset, length);
    }

    @Override
    public void write(ByteBuffer value) {
      pieces = 2;
    }

    @Override
    public void writeLazy(ByteBuffer value) {
      pieces = 2;
    }
  }
}
