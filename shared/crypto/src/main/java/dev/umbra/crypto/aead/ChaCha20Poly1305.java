package dev.umbra.crypto.aead;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.JceAead;

/** ChaCha20-Poly1305 (RFC 8439, JCE), 96-bit nonce; ciphertext is {@code ct || tag}. */
public final class ChaCha20Poly1305 {
  private ChaCha20Poly1305() {}

  public static byte[] seal(AeadKey key, byte[] nonce, byte[] aad, byte[] plaintext) {
    return new JceAead(JceAead.Algorithm.CHACHA20_POLY1305, key.view())
        .seal(
            Bytes.checkedCopy(nonce, CryptoConstants.GCM_NONCE_LENGTH, "ChaCha20-Poly1305 nonce"),
            aad,
            plaintext);
  }

  public static byte[] open(AeadKey key, byte[] nonce, byte[] aad, byte[] ciphertext) {
    return new JceAead(JceAead.Algorithm.CHACHA20_POLY1305, key.view())
        .open(
            Bytes.checkedCopy(nonce, CryptoConstants.GCM_NONCE_LENGTH, "ChaCha20-Poly1305 nonce"),
            aad,
            ciphertext);
  }
}
