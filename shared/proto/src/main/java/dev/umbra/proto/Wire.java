package dev.umbra.proto;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;

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
}
