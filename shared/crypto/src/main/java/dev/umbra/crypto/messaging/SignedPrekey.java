package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A signed prekey held by its owner: id (uint32), X25519 key pair and validity window (whole
 * seconds). Rotate it every 7 days or so; keep the previous one a while so in-flight initial
 * messages still open ({@link PrekeySecrets}).
 */
public record SignedPrekey(long id, X25519KeyPair keyPair, Instant createdAt, Instant expiresAt) {
  public SignedPrekey {
    Objects.requireNonNull(keyPair, "keyPair");
    checkU32(id, "signed prekey id");
    createdAt = Instant.ofEpochSecond(createdAt.getEpochSecond());
    expiresAt = Instant.ofEpochSecond(expiresAt.getEpochSecond());
    long life = expiresAt.getEpochSecond() - createdAt.getEpochSecond();
    if (createdAt.getEpochSecond() < 0
        || life <= 0
        || life > CryptoConstants.MSG_SIGNED_PREKEY_MAX_LIFETIME_SECONDS) {
      throw new IllegalArgumentException("signed prekey validity window must be 1 s to 35 days");
    }
  }

  public static SignedPrekey generate(long id, Instant createdAt, Duration lifetime) {
    return new SignedPrekey(id, X25519KeyPair.generate(), createdAt, createdAt.plus(lifetime));
  }

  /**
   * What the signed prekey signature covers: {@code lp("umbra-msg-signed-prekey/v1") || identity
   * (64) || u32 id || u64 created_at || u64 expires_at || prekey (32)}.
   */
  public static byte[] signedPayload(
      PublicIdentity identity, long id, Instant createdAt, Instant expiresAt, X25519PublicKey key) {
    return Bytes.concat(
        Bytes.lengthPrefixed(Bytes.utf8(CryptoConstants.MSG_SIGNED_PREKEY_DOMAIN)),
        new Wire.Out()
            .bytes(identity.encode())
            .u32(id)
            .u64(createdAt.getEpochSecond())
            .u64(expiresAt.getEpochSecond())
            .bytes(key.toBytes())
            .toBytes());
  }

  /** {@link #signedPayload} of this prekey under {@code identity}. */
  public byte[] signedPayload(PublicIdentity identity) {
    return signedPayload(identity, id, createdAt, expiresAt, keyPair.publicKey());
  }

  /** Ed25519 signature (64 bytes) of {@code identity} over {@link #signedPayload}. */
  public byte[] sign(IdentityKeyPair identity) {
    return identity.signing().privateKey().sign(signedPayload(identity.publicIdentity()));
  }

  static void checkU32(long v, String what) {
    if (v < 0 || v > 0xffffffffL) {
      throw new IllegalArgumentException(what + " must be a uint32, got " + v);
    }
  }
}
