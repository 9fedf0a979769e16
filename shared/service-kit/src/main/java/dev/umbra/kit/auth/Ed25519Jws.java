package dev.umbra.kit.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;
import java.util.Set;

/**
 * EdDSA (Ed25519) JWS verification with the JDK's own Ed25519, plugged into nimbus-jose-jwt through
 * its {@link JWSVerifier} interface (nimbus' built-in Ed25519 needs Tink, which the kit does not
 * carry).
 */
public final class Ed25519Jws implements JWSVerifier {
  private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
  private static final Set<JWSAlgorithm> ALGORITHMS =
      Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

  private final PublicKey key;
  private final JCAContext jca = new JCAContext();

  public Ed25519Jws(PublicKey key) {
    this.key = key;
  }

  /** A JDK public key from the 32 raw bytes of an Ed25519 public key (RFC 8032). */
  public static PublicKey publicKey(byte[] raw) {
    if (raw == null || raw.length != 32) {
      throw new IllegalArgumentException("an Ed25519 public key is 32 bytes");
    }
    byte[] spki = new byte[SPKI_PREFIX.length + 32];
    System.arraycopy(SPKI_PREFIX, 0, spki, 0, SPKI_PREFIX.length);
    System.arraycopy(raw, 0, spki, SPKI_PREFIX.length, 32);
    try {
      return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key", e);
    }
  }

  /** The 32 raw bytes of a JDK Ed25519 public key (its X.509 encoding without the prefix). */
  public static byte[] rawPublicKey(PublicKey key) {
    byte[] spki = key.getEncoded();
    if (spki == null
        || spki.length != SPKI_PREFIX.length + 32
        || !java.util.Arrays.equals(
            spki, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
      throw new IllegalArgumentException("not an Ed25519 public key");
    }
    return java.util.Arrays.copyOfRange(spki, SPKI_PREFIX.length, spki.length);
  }

  @Override
  public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature)
      throws JOSEException {
    if (!ALGORITHMS.contains(header.getAlgorithm())) {
      return false;
    }
    byte[] sig = signature.decode();
    if (sig.length != 64) {
      return false;
    }
    try {
      Signature v = Signature.getInstance("Ed25519");
      v.initVerify(key);
      v.update(signingInput);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  @Override
  public Set<JWSAlgorithm> supportedJWSAlgorithms() {
    return ALGORITHMS;
  }

  @Override
  public JCAContext getJCAContext() {
    return jca;
  }
}
