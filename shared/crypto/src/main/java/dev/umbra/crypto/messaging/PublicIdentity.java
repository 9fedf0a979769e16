package dev.umbra.crypto.messaging;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.Objects;

/**
 * A messaging identity's public half: the Ed25519 identity key (the device's or agent's enrolled
 * key, trusted through device trust) and the X25519 identity key used in X3DH's DH1/DH2, which that
 * Ed25519 key signs ({@link #bindingPayload()}). Encoded as {@code ed25519 (32) || x25519 (32)}.
 */
public record PublicIdentity(Ed25519PublicKey signingKey, X25519PublicKey dhKey) {
  public static final int LENGTH = 64;

  public PublicIdentity {
    Objects.requireNonNull(signingKey, "signingKey");
    Objects.requireNonNull(dhKey, "dhKey");
  }

  /** {@code ed25519 public key (32) || x25519 public key (32)}. */
  public byte[] encode() {
    return Bytes.concat(signingKey.toBytes(), dhKey.toBytes());
  }

  /**
   * What the identity binding signature covers: {@code lp("umbra-msg-identity/v1") || ed25519 (32)
   * || x25519 (32)}.
   */
  public byte[] bindingPayload() {
    return Bytes.concat(
        Bytes.lengthPrefixed(Bytes.utf8(CryptoConstants.MSG_IDENTITY_BINDING_DOMAIN)), encode());
  }

  /** Refuses with {@link MessageRefusal#BAD_SIGNATURE} unless {@code signature} binds the keys. */
  public void verifyBinding(byte[] signature) {
    try {
      signingKey.verify(bindingPayload(), signature);
    } catch (AuthenticationFailedException e) {
      throw new MessageRefusedException(
          MessageRefusal.BAD_SIGNATURE, "identity binding signature does not verify");
    }
  }

  /**
   * Refuses with {@link MessageRefusal#IDENTITY_MISMATCH} unless the Ed25519 key is {@code pinned}.
   */
  public void requireSigningKey(Ed25519PublicKey pinned) {
    if (!signingKey.equals(Objects.requireNonNull(pinned, "pinned"))) {
      throw new MessageRefusedException(
          MessageRefusal.IDENTITY_MISMATCH, "identity is not the pinned key of this peer");
    }
  }

  static PublicIdentity read(Wire w) {
    return new PublicIdentity(
        Ed25519PublicKey.fromBytes(w.bytes(CryptoConstants.ED25519_KEY_LENGTH)), w.x25519());
  }
}
