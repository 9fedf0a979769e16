package dev.umbra.crypto.internal;

import dev.umbra.crypto.MalformedInputException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Byte helpers: length-prefixed encoding {@code lp(x)}, hex, concatenation, length checks. */
public final class Bytes {
  private static final HexFormat HEX = HexFormat.of();

  private Bytes() {}

  /** Builds {@code lp(x1) lp(x2) ...}: each element a 4-byte big-endian length, then its bytes. */
  public static byte[] lengthPrefixed(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      int n = part.length;
      out.write(n >>> 24);
      out.write(n >>> 16);
      out.write(n >>> 8);
      out.write(n);
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] u64be(long value) {
    byte[] out = new byte[8];
    for (int i = 7; i >= 0; i--) {
      out[i] = (byte) value;
      value >>>= 8;
    }
    return out;
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  public static String hex(byte[] bytes) {
    return HEX.formatHex(bytes);
  }

  /** Parses lowercase or uppercase hex; rejects odd length and non-hex characters. */
  public static byte[] unhex(String hex) {
    try {
      return HEX.parseHex(hex);
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException("not a valid hex string: " + e.getMessage());
    }
  }

  /** Returns a copy of {@code bytes} after checking its length. */
  public static byte[] checkedCopy(byte[] bytes, int expectedLength, String what) {
    if (bytes == null) {
      throw new MalformedInputException(what + " is missing");
    }
    if (bytes.length != expectedLength) {
      throw new MalformedInputException(
          what + " must be " + expectedLength + " bytes, got " + bytes.length);
    }
    return bytes.clone();
  }
}
