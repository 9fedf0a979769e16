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
 * EdDSA (Ed25519) JWS signing behind nimbus' {@link JWSSigner} interface, the counterpart of {@link
 * Ed25519Jws}: the control plane's issuer signs with its umbra-crypto keys ({@link #of(Signing)});
 * test fixtures and benchmarks that run services without a control plane sign with a JDK key
 * ({@link #of(PrivateKey)}).
 */
public final class Ed25519JwsSigner implements JWSSigner {
  /** An Ed25519 signature (64 bytes) over the JWS signing input. */
  @FunctionalInterface
  public interface Signing {
    byte[] sign(byte[] signingInput) throws GeneralSecurityException;
  }

  private final Signing signing;
  private final JCAContext jca = new JCAContext();

  private Ed25519JwsSigner(Signing signing) {
    this.signing = signing;
  }

  public static Ed25519JwsSigner of(Signing signing) {
    return new Ed25519JwsSigner(signing);
  }

  /** Signs with a JDK Ed25519 private key. */
  public static Ed25519JwsSigner of(PrivateKey key) {
    return new Ed25519JwsSigner(
        input -> {
          Signature s = Signature.getInstance("Ed25519");
          s.initSign(key);
          s.update(input);
          return s.sign();
        });
  }

  @Override
  public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
    try {
      return Base64URL.encode(signing.sign(signingInput));
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
