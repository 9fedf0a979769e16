package dev.umbra.crypto.keys;

import dev.umbra.crypto.MalformedInputException;
import java.util.Objects;

/** A P-256 key pair (workspace key envelopes, ECDSA signatures). */
public record P256KeyPair(P256PrivateKey privateKey, P256PublicKey publicKey) {
  public P256KeyPair {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(publicKey, "publicKey");
    if (!privateKey.publicKey().equals(publicKey)) {
      throw new MalformedInputException("P-256 public key does not match the private key");
    }
  }

  public static P256KeyPair generate() {
    return fromPrivateKey(P256PrivateKey.generate());
  }

  public static P256KeyPair fromPrivateKey(P256PrivateKey privateKey) {
    return new P256KeyPair(privateKey, privateKey.publicKey());
  }
}
