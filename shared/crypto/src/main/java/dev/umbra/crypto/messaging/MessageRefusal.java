package dev.umbra.crypto.messaging;

/**
 * Why a messaging input was refused (docs/messaging-crypto.md, "Refusals"). Every refusal leaves
 * the session state exactly as it was; the caller discards the input and never shows it.
 */
public enum MessageRefusal {
  /** Wrong length, wrong structure, trailing bytes, a field out of range. */
  MALFORMED,
  /** The version byte is not one this implementation knows; nothing is guessed or downgraded. */
  UNKNOWN_VERSION,
  /** An Ed25519 signature (identity binding or signed prekey) does not verify. */
  BAD_SIGNATURE,
  /** The signed identity is not the one the caller pinned for this peer. */
  IDENTITY_MISMATCH,
  /** The signed prekey's validity window has ended. */
  EXPIRED_PREKEY,
  /** The signed prekey's creation time lies in the future (beyond the tolerated clock skew). */
  PREKEY_NOT_YET_VALID,
  /** An initial message names a signed or one-time prekey the receiver does not hold (any more). */
  UNKNOWN_PREKEY,
  /** The XChaCha20-Poly1305 tag does not verify: tampered ciphertext, header, AD or wrong key. */
  BAD_TAG,
  /**
   * The message's key is no longer held: it was decrypted before (a replay), or deleted (expired).
   */
  REPLAYED,
  /** Decrypting it would skip more than MAX_SKIP message keys in one chain. */
  TOO_MANY_SKIPPED,
  /** A plaintext or ciphertext exceeds the size limit. */
  TOO_LARGE,
  /** The sending counter of this session is exhausted (2^32 - 1 messages in one chain). */
  COUNTER_EXHAUSTED
}
