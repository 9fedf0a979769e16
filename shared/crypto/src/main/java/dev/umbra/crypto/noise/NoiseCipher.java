package dev.umbra.crypto.noise;

import dev.umbra.crypto.internal.JceAead;

/** Noise cipher functions (Noise spec §12.3, §12.4), both through the JCE. */
public enum NoiseCipher {
  /** AES-256-GCM; nonce = 32 zero bits then the 64-bit counter big-endian. */
  AESGCM("AESGCM", JceAead.Algorithm.AES_GCM, true),
  /** ChaCha20-Poly1305; nonce = 32 zero bits then the 64-bit counter little-endian. */
  CHACHAPOLY("ChaChaPoly", JceAead.Algorithm.CHACHA20_POLY1305, false);

  private final String noiseName;
  private final JceAead.Algorithm algorithm;
  private final boolean bigEndianNonce;

  NoiseCipher(String noiseName, JceAead.Algorithm algorithm, boolean bigEndianNonce) {
    this.noiseName = noiseName;
    this.algorithm = algorithm;
    this.bigEndianNonce = bigEndianNonce;
  }

  public String noiseName() {
    return noiseName;
  }

  JceAead newKey(byte[] key) {
    return new JceAead(algorithm, key);
  }

  byte[] nonce(long n) {
    byte[] nonce = new byte[12];
    for (int i = 0; i < 8; i++) {
      byte b = (byte) (n >>> (8 * i));
      nonce[bigEndianNonce ? 11 - i : 4 + i] = b;
    }
    return nonce;
  }
}
