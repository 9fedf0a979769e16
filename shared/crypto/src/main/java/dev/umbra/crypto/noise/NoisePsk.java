package dev.umbra.crypto.noise;

import dev.umbra.crypto.internal.SecretBytes;

/** A Noise pre-shared key (32 bytes, the {@code psk} token of IKpsk2). */
public final class NoisePsk extends SecretBytes {
  public static final int LENGTH = 32;

  private NoisePsk(byte[] bytes) {
    super(bytes, LENGTH, "Noise PSK");
  }

  public static NoisePsk fromBytes(byte[] bytes) {
    return new NoisePsk(bytes);
  }

  /** The raw 32 bytes, for the handshake and key files; the caller must protect them. */
  public byte[] exportBytes() {
    return secretCopy();
  }
}
