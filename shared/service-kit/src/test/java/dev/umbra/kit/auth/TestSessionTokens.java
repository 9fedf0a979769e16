package dev.umbra.kit.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * For tests of services that verify session tokens (in the kit's test-jar): signs tokens as the
 * control plane would, with a JDK Ed25519 key, and serves the matching JWKS document.
 */
public final class TestSessionTokens {
  private final KeyPair keys;
  private final String kid;

  public TestSessionTokens() {
    this("test-key-" + UUID.randomUUID().toString().substring(0, 8));
  }

  public TestSessionTokens(String kid) {
    try {
      this.keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    this.kid = kid;
  }

  public String kid() {
    return kid;
  }

  public PublicKey publicKey() {
    return keys.getPublic();
  }

  /** The key set to serve at /.well-known/jwks.json. */
  public JsonObject jwks() {
    byte[] spki = keys.getPublic().getEncoded();
    byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    return new JsonObject()
        .put(
            "keys",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("kty", "OKP")
                        .put("crv", "Ed25519")
                        .put("kid", kid)
                        .put("alg", "EdDSA")
                        .put("use", "sig")
                        .put("x", Base64URL.encode(raw).toString())));
  }

  /** The keys for {@link SessionVerifier#useKeys} or {@link SessionVerifier#check}. */
  public Map<String, PublicKey> keyMap() {
    return Map.of(kid, keys.getPublic());
  }

  /** A member's 10-minute token. */
  public String member(UUID workspace, String subject, Role role, String audience, Instant now) {
    return sign(
        b ->
            b.subject(subject)
                .audience(audience)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(600)))
                .claim(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
                .claim(SessionTokens.CLAIM_SUBJECT_KIND, SubjectKind.MEMBER.wire())
                .claim(SessionTokens.CLAIM_ROLE, role.wire()));
  }

  /** A machine's 10-minute token. */
  public String machine(UUID workspace, UUID machine, String audience, Instant now) {
    return sign(
        b ->
            b.subject(machine.toString())
                .audience(audience)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(600)))
                .claim(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
                .claim(SessionTokens.CLAIM_SUBJECT_KIND, SubjectKind.MACHINE.wire())
                .claim(SessionTokens.CLAIM_ROLE, Role.MACHINE.wire()));
  }

  /** A token with the issuer and a fresh jti preset; {@code claims} sets or overrides the rest. */
  public String sign(Consumer<JWTClaimsSet.Builder> claims) {
    return sign(claims, kid, keys);
  }

  /** Signs with any key pair under any kid (for tests of wrong keys). */
  public static String sign(Consumer<JWTClaimsSet.Builder> claims, String kid, KeyPair signer) {
    JWTClaimsSet.Builder b =
        new JWTClaimsSet.Builder().issuer(SessionTokens.ISSUER).jwtID(UUID.randomUUID().toString());
    claims.accept(b);
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(kid).build(), b.build());
    try {
      jwt.sign(Ed25519JwsSigner.of(signer.getPrivate()));
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
