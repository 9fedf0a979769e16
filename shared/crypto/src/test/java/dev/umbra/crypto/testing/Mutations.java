package dev.umbra.crypto.testing;

import dev.umbra.crypto.CryptoException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Bit-flip and truncation helpers for property tests: every mutant must be rejected. */
public final class Mutations {
  private Mutations() {}

  public static byte[] flip(byte[] in, int bit) {
    byte[] out = in.clone();
    out[bit / 8] ^= (byte) (1 << (bit % 8));
    return out;
  }

  /** Runs {@code attempt} on every single-bit flip of {@code input}; returns those it accepted. */
  public static List<String> acceptedBitFlips(String what, byte[] input, Consumer<byte[]> attempt) {
    List<String> accepted = new ArrayList<>();
    for (int bit = 0; bit < input.length * 8; bit++) {
      try {
        attempt.accept(flip(input, bit));
        accepted.add(what + " bit " + bit);
      } catch (CryptoException expected) {
        // rejected, as it must be
      }
    }
    return accepted;
  }

  /** Runs {@code attempt} on every proper prefix of {@code input}; returns those it accepted. */
  public static List<String> acceptedTruncations(
      String what, byte[] input, Consumer<byte[]> attempt) {
    List<String> accepted = new ArrayList<>();
    for (int len = 0; len < input.length; len++) {
      try {
        attempt.accept(java.util.Arrays.copyOf(input, len));
        accepted.add(what + " truncated to " + len);
      } catch (CryptoException expected) {
        // rejected cleanly
      }
    }
    return accepted;
  }
}
