package dev.umbra.crypto.keys;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.P256;
import dev.umbra.crypto.internal.SecretBytes;
import dev.umbra.crypto.secret.SecureRandoms;
import java.math.BigInteger;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.agreement.ECDHBasicAgreement;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.signers.PlainDSAEncoding;
import org.bouncycastle.math.ec.FixedPointCombMultiplier;
import org.bouncycastle.util.BigIntegers;

/** A P-256 private key: a 32-byte big-endian scalar in [1, n-1]. */
public final class P256PrivateKey extends SecretBytes {
  private final P256PublicKey publicKey;

  private P256PrivateKey(byte[] scalar) {
    super(scalar, CryptoConstants.P256_SCALAR_LENGTH, "P-256 private key");
    BigInteger d = new BigInteger(1, scalar);
    if (d.signum() == 0 || d.compareTo(P256.DOMAIN.getN()) >= 0) {
      throw new MalformedInputException("P-256 private key is out of range [1, n-1]");
    }
    this.publicKey = derivePublicKey();
  }

  public static P256PrivateKey generate() {
    ECKeyPairGenerator generator = new ECKeyPairGenerator();
    generator.init(new ECKeyGenerationParameters(P256.DOMAIN, SecureRandoms.random()));
    AsymmetricCipherKeyPair pair = generator.generateKeyPair();
    BigInteger d = ((ECPrivateKeyParameters) pair.getPrivate()).getD();
    return new P256PrivateKey(
        BigIntegers.asUnsignedByteArray(CryptoConstants.P256_SCALAR_LENGTH, d));
  }

  public static P256PrivateKey fromBytes(byte[] scalar) {
    return new P256PrivateKey(scalar);
  }

  private ECPrivateKeyParameters parameters() {
    return new ECPrivateKeyParameters(new BigInteger(1, secret()), P256.DOMAIN);
  }

  /** The matching public key (derived once, when the private key is created). */
  public P256PublicKey publicKey() {
    return publicKey;
  }

  private P256PublicKey derivePublicKey() {
    return P256PublicKey.fromPoint(
        new FixedPointCombMultiplier().multiply(P256.DOMAIN.getG(), new BigInteger(1, secret())));
  }

  /**
   * ECDH: the 32-byte x-coordinate of {@code d * peer} (SEC1 / NIST SP 800-56A shared secret Z).
   */
  public byte[] agree(P256PublicKey peer) {
    ECDHBasicAgreement agreement = new ECDHBasicAgreement();
    agreement.init(parameters());
    try {
      BigInteger z = agreement.calculateAgreement(peer.parameters());
      return BigIntegers.asUnsignedByteArray(CryptoConstants.P256_SCALAR_LENGTH, z);
    } catch (IllegalStateException e) {
      throw new MalformedInputException("P-256 ECDH failed: " + e.getMessage(), e);
    }
  }

  /**
   * ECDSA-P256-SHA256 with deterministic nonces (RFC 6979); signature in IEEE P1363 form {@code r
   * || s}.
   */
  public byte[] sign(byte[] message) {
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
    signer.init(true, parameters());
    BigInteger[] rs = signer.generateSignature(P256PublicKey.sha256(message));
    return PlainDSAEncoding.INSTANCE.encode(P256.DOMAIN.getN(), rs[0], rs[1]);
  }

  /** The raw 32-byte scalar. Only for key files and interop; the caller must protect it. */
  public byte[] exportPrivateBytes() {
    return secretCopy();
  }
}
