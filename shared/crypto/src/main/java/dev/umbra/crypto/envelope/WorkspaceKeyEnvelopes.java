package dev.umbra.crypto.envelope;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.JceAead;
import dev.umbra.crypto.kdf.HkdfSha256;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.secret.SecureRandoms;
import java.util.Arrays;

/**
 * Workspace key envelopes (DESIGN.md §2): P-256 ECDH between a fresh ephemeral sender key and the
 * recipient, HKDF-SHA256 (salt: 32 random bytes, info: {@code umbra.workspace_key_envelope.v1}) to
 * a 32-byte AES-256-GCM key, random 96-bit nonce, and {@code aad = lp(suite)
 * lp(ephemeral_public_key) lp(recipient_public_key) lp(associated_data)}, so an envelope cannot be
 * moved to another recipient or another purpose.
 */
public final class WorkspaceKeyEnvelopes {
  private WorkspaceKeyEnvelopes() {}

  /** Seals {@code plaintext} (e.g. a serialized workspace keyset) to {@code recipient}. */
  public static WorkspaceKeyEnvelope seal(
      P256PublicKey recipient, byte[] plaintext, byte[] associatedData) {
    P256KeyPair ephemeral = P256KeyPair.generate();
    byte[] salt = SecureRandoms.bytes(CryptoConstants.WORKSPACE_KEY_ENVELOPE_SALT_LENGTH);
    byte[] nonce = SecureRandoms.bytes(CryptoConstants.GCM_NONCE_LENGTH);
    byte[] key =
        HkdfSha256.derive(
            ephemeral.privateKey().agree(recipient),
            salt,
            Bytes.utf8(CryptoConstants.WORKSPACE_KEY_ENVELOPE_INFO),
            CryptoConstants.AES_256_KEY_LENGTH);
    try {
      byte[] ct =
          new JceAead(JceAead.Algorithm.AES_GCM, key)
              .seal(
                  nonce,
                  aad(
                      CryptoConstants.SUITE_WORKSPACE_KEY_ENVELOPE,
                      ephemeral.publicKey(),
                      recipient,
                      associatedData),
                  plaintext);
      return new WorkspaceKeyEnvelope(
          CryptoConstants.SUITE_WORKSPACE_KEY_ENVELOPE, ephemeral.publicKey(), salt, nonce, ct);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /**
   * Opens an envelope addressed to {@code recipient}; any change to it or to {@code associatedData}
   * fails.
   */
  public static byte[] open(
      WorkspaceKeyEnvelope envelope, P256KeyPair recipient, byte[] associatedData) {
    if (!CryptoConstants.SUITE_WORKSPACE_KEY_ENVELOPE.equals(envelope.suite())) {
      throw new UnsupportedSuiteException(
          "unsupported workspace key envelope suite: " + envelope.suite());
    }
    byte[] key =
        HkdfSha256.derive(
            recipient.privateKey().agree(envelope.ephemeralPublicKey()),
            envelope.salt(),
            Bytes.utf8(CryptoConstants.WORKSPACE_KEY_ENVELOPE_INFO),
            CryptoConstants.AES_256_KEY_LENGTH);
    try {
      return new JceAead(JceAead.Algorithm.AES_GCM, key)
          .open(
              envelope.nonce(),
              aad(
                  envelope.suite(),
                  envelope.ephemeralPublicKey(),
                  recipient.publicKey(),
                  associatedData),
              envelope.ciphertext());
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  private static byte[] aad(
      String suite, P256PublicKey ephemeral, P256PublicKey recipient, byte[] associatedData) {
    return Bytes.lengthPrefixed(
        Bytes.utf8(suite),
        ephemeral.toBytes(),
        recipient.toBytes(),
        associatedData == null ? new byte[0] : associatedData);
  }
}
