package dev.umbra.crypto.noise;

import dev.umbra.crypto.UnsupportedSuiteException;
import java.util.Objects;

/**
 * A supported Noise protocol: {@code Noise_<pattern>_25519_<cipher>_<hash>}. Parsing is exact
 * (case-sensitive); any other name is rejected.
 */
public record NoiseProtocol(NoisePattern pattern, NoiseCipher cipher, NoiseHash hash) {
  /** Umbra's relay channel protocol (DESIGN.md §4). */
  public static final NoiseProtocol IK_25519_AESGCM_SHA256 =
      new NoiseProtocol(NoisePattern.IK, NoiseCipher.AESGCM, NoiseHash.SHA256);

  /** Umbra's relay channel protocol where the workspace requires a PSK. */
  public static final NoiseProtocol IKPSK2_25519_AESGCM_SHA256 =
      new NoiseProtocol(NoisePattern.IKPSK2, NoiseCipher.AESGCM, NoiseHash.SHA256);

  public NoiseProtocol {
    Objects.requireNonNull(pattern, "pattern");
    Objects.requireNonNull(cipher, "cipher");
    Objects.requireNonNull(hash, "hash");
  }

  public static NoiseProtocol parse(String name) {
    if (name == null) {
      throw new UnsupportedSuiteException("Noise protocol name is missing");
    }
    String[] parts = name.split("_", -1);
    if (parts.length != 5 || !parts[0].equals("Noise") || !parts[2].equals("25519")) {
      throw new UnsupportedSuiteException("unsupported Noise protocol: " + name);
    }
    NoisePattern pattern = null;
    for (NoisePattern p : NoisePattern.values()) {
      if (p.noiseName().equals(parts[1])) {
        pattern = p;
      }
    }
    NoiseCipher cipher = null;
    for (NoiseCipher c : NoiseCipher.values()) {
      if (c.noiseName().equals(parts[3])) {
        cipher = c;
      }
    }
    NoiseHash hash = null;
    for (NoiseHash h : NoiseHash.values()) {
      if (h.noiseName().equals(parts[4])) {
        hash = h;
      }
    }
    if (pattern == null || cipher == null || hash == null) {
      throw new UnsupportedSuiteException("unsupported Noise protocol: " + name);
    }
    return new NoiseProtocol(pattern, cipher, hash);
  }

  /** The full protocol name, e.g. {@code Noise_IK_25519_AESGCM_SHA256}. */
  public String name() {
    return "Noise_" + pattern.noiseName() + "_25519_" + cipher.noiseName() + "_" + hash.noiseName();
  }

  @Override
  public String toString() {
    return name();
  }
}
