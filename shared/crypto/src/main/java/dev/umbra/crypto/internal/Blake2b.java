package dev.umbra.crypto.internal;

import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * BLAKE2b (RFC 7693) through Bouncy Castle's {@link Blake2bDigest}, optionally keyed, any output
 * length 1..64.
 */
public final class Blake2b {
  private Blake2b() {}

  public static byte[] digest(byte[] key, int outputLength, byte[] input) {
    Blake2bDigest digest =
        new Blake2bDigest(key == null || key.length == 0 ? null : key, outputLength, null, null);
    digest.update(input, 0, input.length);
    byte[] out = new byte[outputLength];
    digest.doFinal(out, 0);
    return out;
  }
}
