package dev.umbra.crypto.ids;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * ULIDs (48-bit time in milliseconds, 80 random bits, Crockford base32, 26 characters) that key
 * holders choose: audit event ids the audit service de-duplicates on, workflow run ids.
 */
public final class Ulids {
  private static final char[] CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();

  private Ulids() {}

  /** A new ULID for the time {@code millis}. */
  public static String next(long millis, SecureRandom random) {
    long t = millis;
    byte[] rnd = new byte[10];
    random.nextBytes(rnd);
    char[] out = new char[26];
    for (int i = 9; i >= 0; i--) {
      out[i] = CROCKFORD[(int) (t & 31)];
      t >>>= 5;
    }
    BigInteger r = new BigInteger(1, rnd);
    for (int i = 25; i >= 10; i--) {
      out[i] = CROCKFORD[r.intValue() & 31];
      r = r.shiftRight(5);
    }
    return new String(out);
  }
}
