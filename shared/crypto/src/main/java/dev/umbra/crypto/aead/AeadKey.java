package dev.umbra.crypto.aead;

import dev.umbra.crypto.internal.SecretBytes;
import dev.umbra.crypto.secret.SecureRandoms;

/** A 256-bit AEAD key (AES-256-GCM, ChaCha20-Poly1305, XChaCha20-Poly1305). */
public final class AeadKey extends SecretBytes {
  public static final int LENGTH = 32;

  private AeadKey(byte[] bytes) {
    super(bytes, LENGTH, "AEAD key");
  }

  public static AeadKey generate() {
    return new AeadKey(SecureRandoms.bytes(LENGTH));
  }

  public static AeadKey fromBytes(byte[] bytes) {
    return new AeadKey(bytes);
  }

  /** The raw key bytes, for interop; the caller must protect them. */
  public byte[] exportKeyBytes() {
    return secretCopy();
  }

  byte[] view() {
    return secret();
  }
}
