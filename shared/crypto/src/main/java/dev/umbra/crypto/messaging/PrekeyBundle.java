package dev.umbra.crypto.messaging;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A prekey bundle as the server hands it out (docs/messaging-crypto.md, "Prekey bundle"):
 *
 * <pre>
 * u8 version (1) || identity (64) || identity binding signature (64)
 * || u32 spk_id || u64 spk_created_at || u64 spk_expires_at || spk (32) || spk signature (64)
 * || u8 has_opk (0|1) || [u32 opk_id || opk (32)]
 * </pre>
 *
 * 246 bytes without a one-time prekey, 282 with one. Parsing checks structure only; {@link #verify}
 * checks signatures, the pinned identity and the validity window, and is the only way to a {@link
 * VerifiedPrekeyBundle}.
 */
public record PrekeyBundle(
    PublicIdentity identity,
    byte[] identitySignature,
    long signedPrekeyId,
    Instant signedPrekeyCreatedAt,
    Instant signedPrekeyExpiresAt,
    X25519PublicKey signedPrekey,
    byte[] signedPrekeySignature,
    Optional<PublicOneTimePrekey> oneTimePrekey) {
  public static final int LENGTH_WITHOUT_ONE_TIME_PREKEY = 246;
  public static final int LENGTH_WITH_ONE_TIME_PREKEY = 282;

  public PrekeyBundle {
    Objects.requireNonNull(identity, "identity");
    identitySignature = sig(identitySignature);
    SignedPrekey.checkU32(signedPrekeyId, "signed prekey id");
    Objects.requireNonNull(signedPrekeyCreatedAt, "signedPrekeyCreatedAt");
    Objects.requireNonNull(signedPrekeyExpiresAt, "signedPrekeyExpiresAt");
    Objects.requireNonNull(signedPrekey, "signedPrekey");
    signedPrekeySignature = sig(signedPrekeySignature);
    Objects.requireNonNull(oneTimePrekey, "oneTimePrekey");
  }

  /** The owner's bundle: identity, its binding signature, the signed prekey and its signature. */
  public static PrekeyBundle create(
      IdentityKeyPair owner, SignedPrekey spk, PublicOneTimePrekey opk) {
    return new PrekeyBundle(
        owner.publicIdentity(),
        owner.bindingSignature(),
        spk.id(),
        spk.createdAt(),
        spk.expiresAt(),
        spk.keyPair().publicKey(),
        spk.sign(owner),
        Optional.ofNullable(opk));
  }

  /** The same signed part with {@code opk} (the server's splice; one-time prekeys are unsigned). */
  public PrekeyBundle withOneTimePrekey(PublicOneTimePrekey opk) {
    return new PrekeyBundle(
        identity,
        identitySignature,
        signedPrekeyId,
        signedPrekeyCreatedAt,
        signedPrekeyExpiresAt,
        signedPrekey,
        signedPrekeySignature,
        Optional.ofNullable(opk));
  }

  @Override
  public byte[] identitySignature() {
    return identitySignature.clone();
  }

  @Override
  public byte[] signedPrekeySignature() {
    return signedPrekeySignature.clone();
  }

  public byte[] encode() {
    Wire.Out out =
        new Wire.Out()
            .u8(CryptoConstants.MSG_VERSION)
            .bytes(identity.encode())
            .bytes(identitySignature)
            .u32(signedPrekeyId)
            .u64(signedPrekeyCreatedAt.getEpochSecond())
            .u64(signedPrekeyExpiresAt.getEpochSecond())
            .bytes(signedPrekey.toBytes())
            .bytes(signedPrekeySignature)
            .u8(oneTimePrekey.isPresent() ? 1 : 0);
    oneTimePrekey.ifPresent(o -> out.bytes(o.encode()));
    return out.toBytes();
  }

  /** Structure only: version, lengths, flags. Refuses with MALFORMED or UNKNOWN_VERSION. */
  public static PrekeyBundle parse(byte[] encoded) {
    Wire w = Wire.of(encoded, "prekey bundle");
    w.version();
    PublicIdentity identity = PublicIdentity.read(w);
    byte[] identitySig = w.bytes(CryptoConstants.ED25519_SIGNATURE_LENGTH);
    long spkId = w.u32();
    long created = w.seconds();
    long expires = w.seconds();
    X25519PublicKey spk = w.x25519();
    byte[] spkSig = w.bytes(CryptoConstants.ED25519_SIGNATURE_LENGTH);
    Optional<PublicOneTimePrekey> opk =
        w.flag() ? Optional.of(PublicOneTimePrekey.read(w)) : Optional.empty();
    w.end("prekey bundle");
    return new PrekeyBundle(
        identity,
        identitySig,
        spkId,
        Instant.ofEpochSecond(created),
        Instant.ofEpochSecond(expires),
        spk,
        spkSig,
        opk);
  }

  /**
   * Parses and verifies a bundle for the peer whose Ed25519 identity key is {@code pinned} (from
   * device trust, never from the server): identity binding signature, signed prekey signature,
   * identity equals the pinned key, validity window holds at {@code clock}. Fails closed.
   */
  public static VerifiedPrekeyBundle verify(
      byte[] encoded, dev.umbra.crypto.keys.Ed25519PublicKey pinned, Clock clock) {
    PrekeyBundle b = parse(encoded);
    b.identity.requireSigningKey(pinned);
    b.identity.verifyBinding(b.identitySignature);
    byte[] payload =
        SignedPrekey.signedPayload(
            b.identity,
            b.signedPrekeyId,
            b.signedPrekeyCreatedAt,
            b.signedPrekeyExpiresAt,
            b.signedPrekey);
    try {
      b.identity.signingKey().verify(payload, b.signedPrekeySignature);
    } catch (AuthenticationFailedException e) {
      throw new MessageRefusedException(
          MessageRefusal.BAD_SIGNATURE, "signed prekey signature does not verify");
    }
    long now = clock.instant().getEpochSecond();
    long created = b.signedPrekeyCreatedAt.getEpochSecond();
    long expires = b.signedPrekeyExpiresAt.getEpochSecond();
    if (expires <= created
        || expires - created > CryptoConstants.MSG_SIGNED_PREKEY_MAX_LIFETIME_SECONDS) {
      throw new MessageRefusedException(
          MessageRefusal.MALFORMED, "signed prekey validity window out of range");
    }
    if (created > now + CryptoConstants.MSG_CLOCK_SKEW_SECONDS) {
      throw new MessageRefusedException(
          MessageRefusal.PREKEY_NOT_YET_VALID, "signed prekey created in the future");
    }
    if (now >= expires) {
      throw new MessageRefusedException(MessageRefusal.EXPIRED_PREKEY, "signed prekey expired");
    }
    return new VerifiedPrekeyBundle(b);
  }

  private static byte[] sig(byte[] s) {
    Objects.requireNonNull(s, "signature");
    if (s.length != CryptoConstants.ED25519_SIGNATURE_LENGTH) {
      throw new MessageRefusedException(MessageRefusal.MALFORMED, "signature must be 64 bytes");
    }
    return s.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PrekeyBundle b && java.util.Arrays.equals(encode(), b.encode());
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(encode());
  }

  @Override
  public String toString() {
    return "PrekeyBundle[spk_id="
        + signedPrekeyId
        + ", opk="
        + oneTimePrekey.map(PublicOneTimePrekey::id)
        + "]";
  }
}
