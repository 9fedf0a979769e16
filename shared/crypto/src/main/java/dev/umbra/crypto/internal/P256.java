package dev.umbra.crypto.internal;

import dev.umbra.crypto.MalformedInputException;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.math.ec.ECPoint;

/** NIST P-256 (secp256r1) domain parameters and point decoding, from Bouncy Castle. */
public final class P256 {
  private static final X9ECParameters X9 = CustomNamedCurves.getByName("secp256r1");
  public static final ECDomainParameters DOMAIN =
      new ECDomainParameters(X9.getCurve(), X9.getG(), X9.getN(), X9.getH(), X9.getSeed());

  private P256() {}

  /**
   * Decodes an SEC1 point (compressed or uncompressed) and checks it is on the curve and not the
   * point at infinity.
   */
  public static ECPoint decodePoint(byte[] encoded) {
    ECPoint point;
    try {
      point = DOMAIN.getCurve().decodePoint(encoded);
    } catch (RuntimeException e) {
      throw new MalformedInputException("not a valid P-256 point: " + e.getMessage(), e);
    }
    if (point.isInfinity() || !point.isValid()) {
      throw new MalformedInputException("not a valid P-256 point");
    }
    return point.normalize();
  }
}
