package dev.umbra.crypto.sign;

import dev.umbra.crypto.UnsupportedSuiteException;

/** Signature algorithms Umbra accepts, with their wire names. */
public enum SignatureAlgorithm {
  /** Pure Ed25519 (RFC 8032), 64-byte signatures. */
  ED25519("ed25519"),
  /** ECDSA over P-256 with SHA-256, signatures as IEEE P1363 {@code r || s} (64 bytes). */
  ECDSA_P256_SHA256("ecdsa-p256-sha256");

  private final String wireName;

  SignatureAlgorithm(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  /**
   * Parses a wire name exactly (case-sensitive); unknown names are rejected, never mapped to a
   * default.
   */
  public static SignatureAlgorithm fromWireName(String name) {
    for (SignatureAlgorithm a : values()) {
      if (a.wireName.equals(name)) {
        return a;
      }
    }
    throw new UnsupportedSuiteException("unsupported signature algorithm: " + name);
  }
}
