package dev.umbra.crypto.keys;

import dev.umbra.crypto.MalformedInputException;
import java.util.Objects;

/** An X25519 key pair (key agreement: Noise, HPKE, WebTTY identities). */
public record X25519KeyPair(X25519PrivateKey privateKey, X25519PublicKey publicKey) {
  public X25519KeyPair {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(publicKey, "publicKey");
    if (!privateKey.publicKey().equals(publicKey)) {
      throw new MalformedInputException("X25519 public key does not match the private key");
    }
  }

  public static X25519KeyPair generate() {
    return fromPrivateKey(X25519PrivateKey.generate());
  }

  public static X25519KeyPair fromPrivateKey(X25519PrivateKey privateKey) {
    return new X25519KeyPair(privateKey, privateKey.publicKey());
  }
}
