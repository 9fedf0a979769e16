package dev.umbra.crypto.keys;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.P256;
import dev.umbra.crypto.internal.PublicBytes;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.signers.DSAEncoding;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.PlainDSAEncoding;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.math.ec.ECPoint;

/**
 * A P-256 public key, held as its 65-byte uncompressed SEC1 encoding and validated on the curve.
 */
public final class P256PublicKey extends PublicBytes {
  private final ECPoint point;

  private P256PublicKey(byte[] uncompressed, ECPoint point) {
    super(uncompressed, CryptoConstants.P256_UNCOMPRESSED_POINT_LENGTH, "P-256 public key");
    this.point = point;
  }

  /**
   * Parses an uncompressed SEC1 point ({@code 04 || x || y}); rejects other encodings and off-curve
   * points.
   */
  public static P256PublicKey fromBytes(byte[] uncompressed) {
    if (uncompressed == null
        || uncompressed.length != CryptoConstants.P256_UNCOMPRESSED_POINT_LENGTH
        || uncompressed[0] != 0x04) {
      throw new MalformedInputException(
          "P-256 public key must be a 65-byte uncompressed point (04 || x || y)");
    }
    return new P256PublicKey(uncompressed, P256.decodePoint(uncompressed));
  }

  /**
   * Parses a DER SubjectPublicKeyInfo (what WebCrypto's {@code exportKey("spki")} gives): algorithm
   * id-ecPublicKey with the named curve P-256 (explicit parameters are refused) and an uncompressed
   * point. The DER must be exact (re-encoding gives the same bytes).
   */
  public static P256PublicKey fromSpki(byte[] der) {
    SubjectPublicKeyInfo spki;
    try {
      spki = SubjectPublicKeyInfo.getInstance(ASN1Primitive.fromByteArray(der));
      if (!Arrays.equals(spki.getEncoded(ASN1Encoding.DER), der)) {
        throw new MalformedInputException("P-256 SubjectPublicKeyInfo is not in strict DER");
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof MalformedInputException m) {
        throw m;
      }
      throw new MalformedInputException("not a DER SubjectPublicKeyInfo: " + e.getMessage(), e);
    }
    AlgorithmIdentifier alg = spki.getAlgorithm();
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(alg.getAlgorithm())
        || !X9ObjectIdentifiers.prime256v1.equals(alg.getParameters())) {
      throw new MalformedInputException(
          "SubjectPublicKeyInfo is not an EC key on the named curve P-256");
    }
    return fromBytes(spki.getPublicKeyData().getOctets());
  }

  public static P256PublicKey fromHex(String hex) {
    return fromBytes(Bytes.unhex(hex));
  }

  static P256PublicKey fromPoint(ECPoint point) {
    ECPoint normalized = point.normalize();
    return new P256PublicKey(normalized.getEncoded(false), normalized);
  }

  ECPoint point() {
    return point;
  }

  ECPublicKeyParameters parameters() {
    return new ECPublicKeyParameters(point, P256.DOMAIN);
  }

  /** Verifies an ECDSA-P256-SHA256 signature in IEEE P1363 form ({@code r || s}, 64 bytes). */
  public void verify(byte[] message, byte[] signature) {
    verify(message, signature, PlainDSAEncoding.INSTANCE);
  }

  /**
   * Verifies an ECDSA-P256-SHA256 signature in strict DER form (interop only; Umbra emits P1363).
   */
  public void verifyDer(byte[] message, byte[] derSignature) {
    verify(message, derSignature, StandardDSAEncoding.INSTANCE);
  }

  private void verify(byte[] message, byte[] signature, DSAEncoding encoding) {
    boolean ok;
    try {
      BigInteger[] rs = encoding.decode(P256.DOMAIN.getN(), signature);
      ECDSASigner verifier = new ECDSASigner();
      verifier.init(false, parameters());
      ok = verifier.verifySignature(sha256(message), rs[0], rs[1]);
    } catch (IOException | RuntimeException e) {
      ok = false;
    }
    if (!ok) {
      throw new AuthenticationFailedException("ECDSA P-256 signature does not verify");
    }
  }

  static byte[] sha256(byte[] message) {
    SHA256Digest digest = new SHA256Digest();
    digest.update(message, 0, message.length);
    byte[] out = new byte[digest.getDigestSize()];
    digest.doFinal(out, 0);
    return out;
  }
}
