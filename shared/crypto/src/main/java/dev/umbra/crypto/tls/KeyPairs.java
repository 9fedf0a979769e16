package dev.umbra.crypto.tls;

import dev.umbra.crypto.secret.SecureRandoms;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;

/**
 * Whether a private key belongs to a certificate's public key: a listener's files are two files,
 * written one after the other, and a key store takes any key beside any certificate.
 */
public final class KeyPairs {
  private KeyPairs() {}

  /**
   * True when {@code key} signs what {@code publicKey} verifies (a random challenge). Key types
   * other than RSA, EC and EdDSA are not checked and count as not belonging (fail closed).
   */
  public static boolean belongTogether(PrivateKey key, PublicKey publicKey) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "EdDSA", "Ed25519", "Ed448" -> key.getAlgorithm();
          default -> null;
        };
    if (algorithm == null || !key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return false;
    }
    try {
      byte[] challenge = SecureRandoms.bytes(32);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(challenge);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(challenge);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }
}
