package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.SecretBytes;
import dev.umbra.crypto.secret.SecureRandoms;

/** A WebTTY session's 32-byte AES-256-GCM payload key. */
public final class PayloadKey extends SecretBytes {
  private PayloadKey(byte[] bytes) {
    super(bytes, CryptoConstants.AES_256_KEY_LENGTH, "WebTTY payload key");
  }

  public static PayloadKey generate() {
    return new PayloadKey(SecureRandoms.bytes(CryptoConstants.AES_256_KEY_LENGTH));
  }

  public static PayloadKey fromBytes(byte[] bytes) {
    return new PayloadKey(bytes);
  }

  /** The raw key bytes: what a grant wraps. The caller must protect them. */
  public byte[] exportKeyBytes() {
    return secretCopy();
  }

  byte[] view() {
    return secret();
  }
}
