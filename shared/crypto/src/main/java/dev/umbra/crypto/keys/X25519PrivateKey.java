package dev.umbra.crypto.keys;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.SecretBytes;
import dev.umbra.crypto.secret.SecureRandoms;
import org.bouncycastle.math.ec.rfc7748.X25519;

/** An X25519 private key (32-byte scalar, RFC 7748; clamped when used). */
public final class X25519PrivateKey extends SecretBytes {
  private final X25519PublicKey publicKey;

  private X25519PrivateKey(byte[] bytes) {
    super(bytes, CryptoConstants.X25519_KEY_LENGTH, "X25519 private key");
    this.publicKey = derivePublicKey();
  }

  public static X25519PrivateKey generate() {
    byte[] k = new byte[X25519.SCALAR_SIZE];
    X25519.generatePrivateKey(SecureRandoms.random(), k);
    return new X25519PrivateKey(k);
  }

  public static X25519PrivateKey fromBytes(byte[] bytes) {
    return new X25519PrivateKey(bytes);
  }

  /** The matching public key (derived once, when the private key is created). */
  public X25519PublicKey publicKey() {
    return publicKey;
  }

  private X25519PublicKey derivePublicKey() {
    byte[] pk = new byte[X25519.POINT_SIZE];
    X25519.generatePublicKey(secret(), 0, pk, 0);
    return X25519PublicKey.fromBytes(pk);
  }

  /**
   * X25519(this, peer). Refuses an all-zero result (a low-order peer key), as RFC 7748 §6.1 allows
   * and Noise/HPKE recommend.
   */
  public byte[] agree(X25519PublicKey peer) {
    byte[] shared = new byte[X25519.POINT_SIZE];
    if (!X25519.calculateAgreement(secret(), 0, peer.toBytes(), 0, shared, 0)) {
      throw new MalformedInputException(
          "X25519 agreement produced all zeros: the peer public key has low order");
    }
    return shared;
  }

  /** The raw 32-byte scalar. Only for key files and interop; the caller must protect it. */
  public byte[] exportPrivateBytes() {
    return secretCopy();
  }
}
