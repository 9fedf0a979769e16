package dev.umbra.crypto.messaging;

import dev.umbra.crypto.internal.SecretBytes;

/** X3DH's output SK (32 bytes), the Double Ratchet's first root key. */
public final class RootSecret extends SecretBytes {
  public static final int LENGTH = 32;

  private RootSecret(byte[] bytes) {
    super(bytes, LENGTH, "X3DH shared secret");
  }

  public static RootSecret fromBytes(byte[] bytes) {
    return new RootSecret(bytes);
  }

  /** The raw secret, for conformance vectors and interop only; the caller must protect it. */
  public byte[] exportSecretBytes() {
    return secretCopy();
  }

  byte[] view() {
    return secret();
  }
}
