package dev.umbra.crypto.secret;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Blake2b;

/**
 * Unkeyed BLAKE2b with a 256-bit output (Bouncy Castle's Blake2bDigest); used for invite tokens and
 * pairing codes.
 */
public final class Blake2b256 {
  private Blake2b256() {}

  public static byte[] hash(byte[] input) {
    return Blake2b.digest(null, CryptoConstants.BLAKE2B_256_LENGTH, input);
  }

  /** Checks {@code candidate} against a stored hash in constant time. */
  public static boolean matches(byte[] candidate, byte[] storedHash) {
    return ConstantTime.equals(hash(candidate), storedHash);
  }
}
