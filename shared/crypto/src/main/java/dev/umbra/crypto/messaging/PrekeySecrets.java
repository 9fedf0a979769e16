package dev.umbra.crypto.messaging;

import java.util.Optional;

/**
 * The private prekeys of the responder side of X3DH. {@link X3dh#respond} looks a prekey up, opens
 * the first message, and only then calls {@link #consumeOneTimePrekey}, so a forged initial message
 * cannot burn a one-time prekey; after it the key must be gone for good.
 */
public interface PrekeySecrets {
  /** The signed prekey {@code id}, current or kept after rotation for in-flight messages. */
  Optional<SignedPrekey> signedPrekey(long id);

  /** The unused one-time prekey {@code id}. */
  Optional<OneTimePrekey> oneTimePrekey(long id);

  /** Deletes one-time prekey {@code id}; it is never found again. */
  void consumeOneTimePrekey(long id);

  /**
   * Records that an initial message with {@code ephemeral} under signed prekey {@code
   * signedPrekeyId} was accepted; false when it was seen before (a replayed initial message, which
   * X3DH alone cannot tell when no one-time prekey was used). The record may be dropped together
   * with the signed prekey.
   */
  boolean recordEphemeral(long signedPrekeyId, dev.umbra.crypto.keys.X25519PublicKey ephemeral);
}
