package dev.umbra.kit.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Set;

/**
 * EdDSA (Ed25519) JWS signing with the JDK's own Ed25519, the counterpart of {@link Ed25519Jws}:
 * what signs session tokens outside the control plane (whose issuer signs with its rotating keys),
 * i.e. the test fixtures and the benchmarks that run services without one.
 */
public final class Ed25519JwsSigner implements JWSSigner {
  private final PrivateKey key;
  private final JCAContext jca = new JCAContext();

  public Ed25519JwsSigner(PrivateKey key) {
    this.key = key;
  }

  @Override
  public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key);
      s.update(signingInput);
      return Base64URL.encode(s.sign());
    } catch (GeneralSecurityException e) {
      throw new JOSEException("cannot sign with Ed25519", e);
    }
  }

  @Override
  public Set<JWSAlgorithm> supportedJWSAlgorithms() {
    return Set.of(JWSAlgorithm.EdDSA);
  }

  @Override
  public JCAContext getJCAContext() {
    return jca;
  }
}
