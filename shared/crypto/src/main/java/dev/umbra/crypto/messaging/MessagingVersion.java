package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;

/**
 * The messaging suite, named by the version byte that opens every encoding. V1: X3DH over X25519
 * with Ed25519 signatures and HKDF-SHA256, the Double Ratchet with an HKDF-SHA256 root KDF and an
 * HMAC-SHA256 chain KDF, XChaCha20-Poly1305 with key and nonce derived from the message key.
 */
public enum MessagingVersion {
  V1(
      CryptoConstants.MSG_VERSION,
      "x3dh-x25519-ed25519-hkdf-sha256/dr-hmac-sha256-xchacha20-poly1305");

  private final int wireByte;
  private final String suite;

  MessagingVersion(int wireByte, String suite) {
    this.wireByte = wireByte;
    this.suite = suite;
  }

  public int wireByte() {
    return wireByte;
  }

  public String suite() {
    return suite;
  }

  /**
   * The version for {@code b}; refuses every other byte with {@link
   * MessageRefusal#UNKNOWN_VERSION}.
   */
  public static MessagingVersion fromWire(int b) {
    for (MessagingVersion v : values()) {
      if (v.wireByte == b) {
        return v;
      }
    }
    throw new MessageRefusedException(MessageRefusal.UNKNOWN_VERSION, "unknown version byte " + b);
  }
}
