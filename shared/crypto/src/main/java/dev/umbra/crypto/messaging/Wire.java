package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Exact big-endian reading and writing of the messaging encodings; every short read is MALFORMED.
 */
final class Wire {
  static final long MAX_SECONDS = 253_402_300_799L;
  private final byte[] in;
  private int pos;

  private Wire(byte[] in) {
    this.in = in;
  }

  static Wire of(byte[] in, String what) {
    if (in == null || in.length == 0) {
      throw malformed(what + " is empty");
    }
    return new Wire(in);
  }

  static MessageRefusedException malformed(String message) {
    return new MessageRefusedException(MessageRefusal.MALFORMED, message);
  }

  /** Reads the version byte and checks it. */
  MessagingVersion version() {
    return MessagingVersion.fromWire(u8());
  }

  int u8() {
    need(1);
    return in[pos++] & 0xff;
  }

  /** A presence flag: exactly 0 or 1. */
  boolean flag() {
    int b = u8();
    if (b > 1) {
      throw malformed("flag byte must be 0 or 1, got " + b);
    }
    return b == 1;
  }

  long u32() {
    need(4);
    long v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (in[pos++] & 0xff);
    }
    return v;
  }

  long u64() {
    need(8);
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (in[pos++] & 0xff);
    }
    if (v < 0) {
      throw malformed("u64 value above 2^63 - 1");
    }
    return v;
  }

  /** Unix seconds as u64, at most 253402300799 (9999-12-31T23:59:59Z). */
  long seconds() {
    long v = u64();
    if (v > MAX_SECONDS) {
      throw malformed("time beyond the year 9999");
    }
    return v;
  }

  byte[] bytes(int n) {
    need(n);
    byte[] out = Arrays.copyOfRange(in, pos, pos + n);
    pos += n;
    return out;
  }

  /**
   * An X25519 public key in canonical form: the top bit clear and u below 2^255 - 19, so no two
   * encodings name the same key (RFC 7748 masks the top bit; Umbra refuses it instead).
   */
  X25519PublicKey x25519() {
    byte[] k = bytes(CryptoConstants.X25519_KEY_LENGTH);
    if ((k[31] & 0x80) != 0 || nonCanonical(k)) {
      throw malformed("X25519 public key not in canonical form");
    }
    return X25519PublicKey.fromBytes(k);
  }

  private static boolean nonCanonical(byte[] k) {
    if ((k[0] & 0xff) < 0xed || k[31] != 0x7f) {
      return false;
    }
    for (int i = 1; i < 31; i++) {
      if (k[i] != (byte) 0xff) {
        return false;
      }
    }
    return true;
  }

  byte[] rest() {
    byte[] out = Arrays.copyOfRange(in, pos, in.length);
    pos = in.length;
    return out;
  }

  int remaining() {
    return in.length - pos;
  }

  void end(String what) {
    if (pos != in.length) {
      throw malformed(what + " has " + (in.length - pos) + " trailing bytes");
    }
  }

  private void need(int n) {
    if (in.length - pos < n) {
      throw malformed("truncated: needed " + n + " more bytes at offset " + pos);
    }
  }

  /** Output side. */
  static final class Out {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Out u8(int v) {
      out.write(v);
      return this;
    }

    Out u32(long v) {
      if (v < 0 || v > 0xffffffffL) {
        throw new IllegalArgumentException("not a uint32: " + v);
      }
      for (int s = 24; s >= 0; s -= 8) {
        out.write((int) (v >>> s));
      }
      return this;
    }

    Out u64(long v) {
      if (v < 0) {
        throw new IllegalArgumentException("negative u64: " + v);
      }
      for (int s = 56; s >= 0; s -= 8) {
        out.write((int) (v >>> s));
      }
      return this;
    }

    Out bytes(byte[] b) {
      out.writeBytes(b);
      return this;
    }

    byte[] toBytes() {
      return out.toByteArray();
    }
  }
}
