package dev.umbra.kit.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.umbra.crypto.secret.VerificationMemo;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Offline checks of session tokens: every malformed, truncated, oversized or misdirected token is
 * refused.
 */
class SessionVerifierTest {
  final KeyPair key = generate();
  final Map<String, PublicKey> keys = Map.of("k1", key.getPublic());
  final Instant now = Instant.parse("2026-01-01T00:00:00Z");
  final UUID workspace = UUID.randomUUID();

  static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  String token(Consumer<JWTClaimsSet.Builder> tweak, String kid, KeyPair signer) {
    return TestSessionTokens.sign(
        b -> {
          b.audience("relay")
              .subject("acct")
              .jwtID("j1")
              .issueTime(Date.from(now))
              .expirationTime(Date.from(now.plusSeconds(600)))
              .claim(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
              .claim(SessionTokens.CLAIM_SUBJECT_KIND, "member")
              .claim(SessionTokens.CLAIM_ROLE, "admin");
          tweak.accept(b);
        },
        kid,
        signer);
  }

  String valid() {
    return token(b -> {}, "k1", key);
  }

  SessionClaims check(String t) {
    return SessionVerifier.check(t, keys, "relay", now);
  }

  @Test
  void acceptsAWellFormedToken() {
    SessionClaims c = check(valid());
    assertThat(c.workspaceId()).isEqualTo(workspace);
    assertThat(c.role()).isEqualTo(Role.ADMIN);
    assertThat(c.subjectKind()).isEqualTo(SubjectKind.MEMBER);
  }

  @Test
  void refusesTruncatedOversizedAndMalformedTokens() {
    String t = valid();
    for (String bad :
        new String[] {
          "",
          "x",
          t.substring(0, t.length() - 1),
          t.substring(0, t.lastIndexOf('.')),
          t + "A",
          "a.b.c",
          "x".repeat(SessionTokens.MAX_TOKEN_CHARS + 1),
          t.replace('.', '!')
        }) {
      assertThatThrownBy(() -> check(bad))
          .as(bad.length() > 40 ? bad.substring(0, 40) : bad)
          .isInstanceOf(InvalidSessionException.class);
    }
  }

  @Test
  void refusesEveryFlippedSignatureByte() {
    String t = valid();
    String[] parts = t.split("\\.");
    byte[] sig = Base64URL.from(parts[2]).decode();
    for (int i = 0; i < sig.length; i++) {
      byte[] s = Arrays.copyOf(sig, sig.length);
      s[i] ^= 1;
      String forged = parts[0] + "." + parts[1] + "." + Base64URL.encode(s);
      assertThatThrownBy(() -> check(forged)).isInstanceOf(InvalidSessionException.class);
    }
  }

  @Test
  void refusesOtherKeysAudiencesIssuersAndTimes() {
    assertThatThrownBy(() -> check(token(b -> {}, "k1", generate())))
        .hasMessageContaining("signature");
    assertThatThrownBy(() -> check(token(b -> {}, "unknown", key)))
        .hasMessageContaining("unknown key");
    assertThatThrownBy(() -> check(token(b -> b.audience("audit"), "k1", key)))
        .hasMessageContaining("not for relay");
    assertThatThrownBy(() -> check(token(b -> b.issuer("evil"), "k1", key)))
        .hasMessageContaining("issuer");
    assertThatThrownBy(
            () -> check(token(b -> b.expirationTime(Date.from(now.minusSeconds(31))), "k1", key)))
        .hasMessageContaining("expired");
    assertThatThrownBy(
            () -> check(token(b -> b.issueTime(Date.from(now.plusSeconds(120))), "k1", key)))
        .hasMessageContaining("not yet");
    assertThatThrownBy(() -> check(token(b -> b.claim("role", "root"), "k1", key)))
        .hasMessageContaining("role");
    assertThatThrownBy(() -> check(token(b -> b.claim("wid", "nope"), "k1", key)))
        .isInstanceOf(InvalidSessionException.class);
    assertThatThrownBy(() -> check(token(b -> b.jwtID(null), "k1", key)))
        .isInstanceOf(InvalidSessionException.class);
  }

  @Test
  void refusesUnsignedAndSymmetricTokens() throws Exception {
    JWTClaimsSet claims = SignedJWT.parse(valid()).getJWTClaimsSet();
    assertThatThrownBy(() -> check(new PlainJWT(claims).serialize()))
        .isInstanceOf(InvalidSessionException.class);
    SignedJWT hs =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("k1").build(), claims);
    hs.sign(new MACSigner(new byte[32]));
    assertThatThrownBy(() -> check(hs.serialize())).hasMessageContaining("algorithm");
  }

  @Test
  void aRememberedSignatureStillHasItsKeyExpiryAndClaimsCheckedOnEveryUse() {
    int[] verifications = new int[1];
    VerificationMemo memo =
        new VerificationMemo(
            (keyHex, token) -> {
              verifications[0]++;
              return SessionVerifier.signatureCheck(keyHex, token);
            },
            java.time.Clock.fixed(now, java.time.ZoneOffset.UTC),
            java.time.Duration.ofMinutes(11),
            100);
    String t = valid();
    for (int i = 0; i < 3; i++) {
      assertThat(SessionVerifier.check(t, keys, "relay", now, memo).workspaceId())
          .isEqualTo(workspace);
    }
    assertThat(verifications[0]).as("one signature check for three uses").isEqualTo(1);
    // the key left the set, or another key now has its kid: refused, remembered or not
    assertThatThrownBy(() -> SessionVerifier.check(t, Map.of(), "relay", now, memo))
        .hasMessageContaining("unknown key");
    assertThatThrownBy(
            () ->
                SessionVerifier.check(t, Map.of("k1", generate().getPublic()), "relay", now, memo))
        .hasMessageContaining("signature");
    assertThatThrownBy(() -> SessionVerifier.check(t, keys, "relay", now.plusSeconds(700), memo))
        .hasMessageContaining("expired");
    assertThatThrownBy(() -> SessionVerifier.check(t, keys, "audit", now, memo))
        .hasMessageContaining("not for audit");
    // a forged signature is never remembered as valid
    String[] parts = t.split("\\.");
    byte[] sig = Base64URL.from(parts[2]).decode();
    sig[0] ^= 1;
    String forged = parts[0] + "." + parts[1] + "." + Base64URL.encode(sig);
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> SessionVerifier.check(forged, keys, "relay", now, memo))
          .hasMessageContaining("signature");
    }
  }

  @Test
  void parsesOnlyEd25519KeysOfAKeySet() {
    String jwks =
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\",\"x\":\""
            + Base64URL.encode(raw(key.getPublic()))
            + "\"},"
            + "{\"kty\":\"oct\",\"kid\":\"b\",\"k\":\"AAAA\"}]}";
    assertThat(SessionVerifier.parseKeySet(jwks)).containsOnlyKeys("a");
    assertThatThrownBy(() -> SessionVerifier.parseKeySet("{\"keys\":"))
        .isInstanceOf(InvalidSessionException.class);
  }

  static byte[] raw(PublicKey k) {
    byte[] spki = k.getEncoded();
    return Arrays.copyOfRange(spki, spki.length - 32, spki.length);
  }
}
