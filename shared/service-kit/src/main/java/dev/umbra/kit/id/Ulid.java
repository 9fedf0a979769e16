package dev.umbra.kit.id;

import java.security.SecureRandom;
import java.time.Clock;

/**
 * ULIDs (26 Crockford base32 characters: 48-bit millisecond time + 80 random bits), used for audit
 * event ids and pairing codes. Monotonic within a millisecond per generator.
 */
public final class Ulid {
  private static final char[] ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

  private final Clock clock;
  private final SecureRandom random;
  private long lastMs = -1;
  private final byte[] lastRandom = new byte[10];

  public Ulid(Clock clock, SecureRandom random) {
    this.clock = clock;
    this.random = random;
  }

  public Ulid() {
    this(Clock.systemUTC(), new SecureRandom());
  }

  public synchronized String next() {
    long ms = clock.millis();
    if (ms == lastMs) {
      increment(lastRandom);
    } else {
      lastMs = ms;
      random.nextBytes(lastRandom);
    }
    return encode(ms, lastRandom);
  }

  private static void increment(byte[] b) {
    for (int i = b.length - 1; i >= 0; i--) {
      if (++b[i] != 0) {
        return;
      }
    }
  }

  static String encode(long ms, byte[] rnd) {
    char[] out = new char[26];
    long t = ms;
    for (int i = 9; i >= 0; i--) {
      out[i] = ALPHABET[(int) (t & 31)];
      t >>>= 5;
    }
    // 80 random bits -> 16 characters
    long hi = 0;
    for (int i = 0; i < 5; i++) {
      hi = (hi << 8) | (rnd[i] & 0xff);
    }
    long lo = 0;
    for (int i = 5; i < 10; i++) {
      lo = (lo << 8) | (rnd[i] & 0xff);
    }
    for (int i = 17; i >= 10; i--) {
      out[i] = ALPHABET[(int) (hi & 31)];
      hi >>>= 5;
    }
    for (int i = 25; i >= 18; i--) {
      out[i] = ALPHABET[(int) (lo & 31)];
      lo >>>= 5;
    }
    return new String(out);
  }

  /** True when {@code s} is a syntactically valid ULID (case-insensitive). */
  public static boolean isValid(String s) {
    if (s == null || s.length() != 26) {
      return false;
    }
    if ("01234567".indexOf(s.charAt(0)) < 0) {
      return false; // would overflow 48 bits
    }
    for (int i = 0; i < 26; i++) {
      char c = Character.toUpperCase(s.charAt(i));
      if (new String(ALPHABET).indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  /** The millisecond timestamp encoded in a valid ULID. */
  public static long timestampMs(String ulid) {
    long t = 0;
    String alphabet = new String(ALPHABET);
    for (int i = 0; i < 10; i++) {
      t = (t << 5) | alphabet.indexOf(Character.toUpperCase(ulid.charAt(i)));
    }
    return t;
  }
}
