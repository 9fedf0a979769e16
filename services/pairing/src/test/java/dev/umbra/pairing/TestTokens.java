package dev.umbra.pairing;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.umbra.kit.auth.SessionTokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.Set;
import java.util.UUID;

/** Signs session tokens as the control plane would, with a test Ed25519 key (JDK). */
final class TestTokens {
  final KeyPair keys;
  final String kid = "test-key-000001";

  TestTokens() throws Exception {
    keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  JsonObject jwks() {
    byte[] spki = keys.getPublic().getEncoded();
    byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    return new JsonObject().put("keys", new JsonArray().add(new JsonObject()
        .put("kty", "OKP").put("crv", "Ed25519").put("kid", kid).put("alg", "EdDSA")
        .put("x", Base64URL.encode(raw).toString())));
  }

  String session(UUID workspace, String role, String audience, Instant now) {
    try {
      JWTClaimsSet c = new JWTClaimsSet.Builder()
          .issuer(SessionTokens.ISSUER).audience(audience).subject(UUID.randomUUID().toString())
          .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(600))).jwtID(UUID.randomUUID().toString())
          .claim("wid", workspace.toString()).claim("sk", "member").claim("role", role).build();
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
