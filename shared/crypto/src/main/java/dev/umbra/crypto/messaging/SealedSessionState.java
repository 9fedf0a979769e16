package dev.umbra.crypto.messaging;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.aead.XChaCha20Poly1305;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.secret.SecureRandoms;

/**
 * A session state at rest: {@code u8 version (1) || nonce (24) || XChaCha20-Poly1305(storage key,
 * nonce, aad, state)} with {@code aad = lp("umbra-msg-state/v1") || lp(utf8(state id))}, so a state
 * cannot be swapped for another session's or replaced by an older copy under another id.
 */
public final class SealedSessionState {
  private static final int MAX_STATE_LENGTH =
      1 << 20; // a full state (2000 skipped keys) is about 160 KiB

  private SealedSessionState() {}

  public static byte[] seal(AeadKey storageKey, String stateId, byte[] state) {
    byte[] nonce = SecureRandoms.bytes(CryptoConstants.XCHACHA20_NONCE_LENGTH);
    return new Wire.Out()
        .u8(CryptoConstants.MSG_VERSION)
        .bytes(nonce)
        .bytes(XChaCha20Poly1305.seal(storageKey, nonce, aad(stateId), state))
        .toBytes();
  }

  /**
   * The state bytes; refuses BAD_TAG (wrong key, id or tampering), MALFORMED, UNKNOWN_VERSION,
   * TOO_LARGE.
   */
  public static byte[] open(AeadKey storageKey, String stateId, byte[] sealed) {
    return open(storageKey, stateId, sealed, MAX_STATE_LENGTH);
  }

  static byte[] open(AeadKey storageKey, String stateId, byte[] sealed, int maxLength) {
    if (sealed != null && sealed.length > maxLength) {
      throw new MessageRefusedException(
          MessageRefusal.TOO_LARGE, "sealed state over the size limit");
    }
    Wire w = Wire.of(sealed, "sealed state");
    w.version();
    byte[] nonce = w.bytes(CryptoConstants.XCHACHA20_NONCE_LENGTH);
    if (w.remaining() < CryptoConstants.AEAD_TAG_LENGTH) {
      throw Wire.malformed("sealed state shorter than the tag");
    }
    try {
      return XChaCha20Poly1305.open(storageKey, nonce, aad(stateId), w.rest());
    } catch (AuthenticationFailedException e) {
      throw new MessageRefusedException(
          MessageRefusal.BAD_TAG, "sealed state does not authenticate");
    }
  }

  static byte[] aad(String stateId) {
    if (stateId == null || stateId.isEmpty()) {
      throw new IllegalArgumentException("state id is required");
    }
    return Bytes.lengthPrefixed(
        Bytes.utf8(CryptoConstants.MSG_STATE_SEAL_DOMAIN), Bytes.utf8(stateId));
  }
}
