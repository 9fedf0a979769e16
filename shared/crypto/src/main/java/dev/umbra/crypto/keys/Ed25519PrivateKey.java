package dev.umbra.crypto.keys;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.SecretBytes;
import dev.umbra.crypto.secret.SecureRandoms;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/** An Ed25519 private key (the 32-byte seed of RFC 8032). */
public final class Ed25519PrivateKey extends SecretBytes {
  private final Ed25519PublicKey publicKey;

  private Ed25519PrivateKey(byte[] bytes) {
    super(bytes, CryptoConstants.ED25519_KEY_LENGTH, "Ed25519 private key");
    this.publicKey = derivePublicKey();
  }

  public static Ed25519PrivateKey generate() {
    byte[] seed = new byte[Ed25519.SECRET_KEY_SIZE];
    Ed25519.generatePrivateKey(SecureRandoms.random(), seed);
    return new Ed25519PrivateKey(seed);
  }

  public static Ed25519PrivateKey fromBytes(byte[] seed) {
    return new Ed25519PrivateKey(seed);
  }

  /** The matching public key (derived once, when the private key is created). */
  public Ed25519PublicKey publicKey() {
    return publicKey;
  }

  private Ed25519PublicKey derivePublicKey() {
    byte[] pk = new byte[Ed25519.PUBLIC_KEY_SIZE];
    Ed25519.generatePublicKey(secret(), 0, pk, 0);
    return Ed25519PublicKey.fromBytes(pk);
  }

  /** Pure Ed25519 signature (64 bytes) over {@code message}. */
  public byte[] sign(byte[] message) {
    byte[] sig = new byte[Ed25519.SIGNATURE_SIZE];
    Ed25519.sign(secret(), 0, message, 0, message.length, sig, 0);
    return sig;
  }

  /** The raw 32-byte seed. Only for key files and interop; the caller must protect it. */
  public byte[] exportPrivateBytes() {
    return secretCopy();
  }
}
