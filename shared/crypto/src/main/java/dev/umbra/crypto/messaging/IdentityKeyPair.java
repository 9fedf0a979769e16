package dev.umbra.crypto.messaging;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import java.util.Objects;

/**
 * A device's or agent's messaging identity: its Ed25519 identity key pair (signatures) and a
 * separate X25519 identity key pair (X3DH's DH), bound together by an Ed25519 signature — no
 * XEdDSA, no key conversion (docs/messaging-crypto.md, "Identity").
 */
public record IdentityKeyPair(Ed25519KeyPair signing, X25519KeyPair dh) {
  public IdentityKeyPair {
    Objects.requireNonNull(signing, "signing");
    Objects.requireNonNull(dh, "dh");
  }

  /**
   * A fresh X25519 identity key for an existing Ed25519 identity (e.g. the enrolled device key).
   */
  public static IdentityKeyPair withFreshDhKey(Ed25519KeyPair signing) {
    return new IdentityKeyPair(signing, X25519KeyPair.generate());
  }

  public PublicIdentity publicIdentity() {
    return new PublicIdentity(signing.publicKey(), dh.publicKey());
  }

  /** Ed25519 signature (64 bytes) over {@link PublicIdentity#bindingPayload()}. */
  public byte[] bindingSignature() {
    return signing.privateKey().sign(publicIdentity().bindingPayload());
  }
}
