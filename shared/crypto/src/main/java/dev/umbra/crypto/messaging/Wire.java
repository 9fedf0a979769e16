package dev.umbra.crypto.messaging;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/** Exact big-endian reading and writing of the messaging encodings; every short read is MALFORMED. */
final class Wire {
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

  byte[] bytes(int n) {
    need(n);
    byte[] out = Arrays.copyOfRange(in, pos, pos + n);
    pos += n;
    return out;
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
