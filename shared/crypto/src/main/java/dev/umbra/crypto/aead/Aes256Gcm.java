package dev.umbra.crypto.aead;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.JceAead;

/** AES-256-GCM (JCE), 96-bit nonce, 128-bit tag; ciphertext is {@code ct || tag}. */
public final class Aes256Gcm {
  private Aes256Gcm() {}

  public static byte[] seal(AeadKey key, byte[] nonce, byte[] aad, byte[] plaintext) {
    return new JceAead(JceAead.Algorithm.AES_GCM, key.view())
        .seal(
            Bytes.checkedCopy(nonce, CryptoConstants.GCM_NONCE_LENGTH, "AES-GCM nonce"),
            aad,
            plaintext);
  }

  public static byte[] open(AeadKey key, byte[] nonce, byte[] aad, byte[] ciphertext) {
    return new JceAead(JceAead.Algorithm.AES_GCM, key.view())
        .open(
            Bytes.checkedCopy(nonce, CryptoConstants.GCM_NONCE_LENGTH, "AES-GCM nonce"),
            aad,
            ciphertext);
  }
}
