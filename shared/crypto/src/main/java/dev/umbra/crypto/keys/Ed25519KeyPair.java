package dev.umbra.crypto.keys;

import dev.umbra.crypto.MalformedInputException;
import java.util.Objects;

/** An Ed25519 key pair (signatures: identities, ServerHello/ClientProof, canonical JSON). */
public record Ed25519KeyPair(Ed25519PrivateKey privateKey, Ed25519PublicKey publicKey) {
  public Ed25519KeyPair {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(publicKey, "publicKey");
    if (!privateKey.publicKey().equals(publicKey)) {
      throw new MalformedInputException("Ed25519 public key does not match the private key");
    }
  }

  public static Ed25519KeyPair generate() {
    return fromPrivateKey(Ed25519PrivateKey.generate());
  }

  public static Ed25519KeyPair fromPrivateKey(Ed25519PrivateKey privateKey) {
    return new Ed25519KeyPair(privateKey, privateKey.publicKey());
  }
}
