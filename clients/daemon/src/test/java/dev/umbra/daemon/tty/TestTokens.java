package dev.umbra.daemon.tty;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.umbra.kit.auth.SessionTokens;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** Signs session tokens as the control plane would, with a test Ed25519 key (JDK). */
final class TestTokens {
  final KeyPair keys;
  final String kid = "webtty-test-key";

  TestTokens() {
    try {
      keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  Map<String, PublicKey> keySet() {
    return Map.of(kid, keys.getPublic());
  }

  String member(UUID workspace, String subject, String role) {
    return token(workspace, subject, "member", role, UUID.randomUUID().toString());
  }

  String machine(UUID workspace, String machineId) {
    return token(workspace, machineId, "machine", "machine", UUID.randomUUID().toString());
  }

  String token(UUID workspace, String subject, String kind, String role, String jti) {
    try {
      Instant now = Instant.now();
      JWTClaimsSet c = new JWTClaimsSet.Builder()
          .issuer(SessionTokens.ISSUER).audience("webtty-engine").subject(subject)
          .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(600))).jwtID(jti)
          .claim("wid", workspace.toString()).claim("sk", kind).claim("role", role).build();
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(kid).build(), c);
      jwt.sign(new JWSSigner() {
        @Override
        public Base64URL sign(JWSHeader header, byte[] input) {
          try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(keys.getPrivate());
            s.update(input);
            return Base64URL.encode(s.sign());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }

        @Override
        public Set<JWSAlgorithm> supportedJWSAlgorithms() {
          return Set.of(JWSAlgorithm.EdDSA);
        }

        @Override
        public JCAContext getJCAContext() {
          return new JCAContext();
        }
      });
      return jwt.serialize();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
