package dev.umbra.kit.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.util.Base64URL;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Session tokens' claims remembered per token: a hit answers what the full check answered, and
 * never outlives the token's key, its expiry or its not-before time; failures are never remembered.
 */
class SessionClaimsMemoTest {
  final KeyPair key = SessionVerifierTest.generate();
  final Map<String, PublicKey> keys = Map.of("k1", key.getPublic());
  final Instant now = Instant.parse("2026-01-01T00:00:00Z");
  final UUID workspace = UUID.randomUUID();

  String token(Instant notBefore) {
    return TestSessionTokens.sign(
        b ->
            b.audience("relay")
                .subject("acct")
                .jwtID("j1")
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(notBefore))
                .expirationTime(Date.from(now.plusSeconds(600)))
                .claim(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
                .claim(SessionTokens.CLAIM_SUBJECT_KIND, "member")
                .claim(SessionTokens.CLAIM_ROLE, "admin"),
        "k1",
        key);
  }

  @Test
  void aTokenIsCheckedOnceAndItsRememberedClaimsAreThoseOfTheFullCheck() {
    SessionClaimsMemo memo = new SessionClaimsMemo("relay", 100);
    String t = token(now);
    SessionClaims first = memo.check(t, keys, now);
    assertThat(first).isEqualTo(SessionVerifier.check(t, keys, "relay", now));
    assertThat(memo.check(t, keys, now.plusSeconds(60)))
        .as("the remembered claims, not a second parse")
        .isSameAs(first);
    assertThat(memo.size()).isEqualTo(1);
  }

  @Test
  void aRememberedTokenStillNeedsItsKeyAndIsRefusedAfterItsExpiry() {
    SessionClaimsMemo memo = new SessionClaimsMemo("relay", 100);
    String t = token(now);
    memo.check(t, keys, now);
    assertThatThrownBy(() -> memo.check(t, Map.of(), now))
        .isInstanceOf(InvalidSessionException.class)
        .hasMessageContaining("unknown key");
    memo.check(t, keys, now);
    assertThatThrownBy(
            () -> memo.check(t, Map.of("k1", SessionVerifierTest.generate().getPublic()), now))
        .hasMessageContaining("signature");
    memo.check(t, keys, now);
    Instant pastExpiry = now.plusSeconds(600 + SessionTokens.CLOCK_SKEW_SECONDS);
    assertThatThrownBy(() -> memo.check(t, keys, pastExpiry)).hasMessageContaining("expired");
    assertThat(memo.size()).as("an entry that no longer passes is forgotten").isZero();
    assertThat(memo.check(t, keys, pastExpiry.minusSeconds(1)).workspaceId()).isEqualTo(workspace);
  }

  @Test
  void aRememberedTokenIsRefusedBeforeItsNotBeforeTime() {
    SessionClaimsMemo memo = new SessionClaimsMemo("relay", 100);
    Instant notBefore = now.plusSeconds(60);
    String t = token(notBefore);
    memo.check(t, keys, notBefore);
    Instant early = notBefore.minusSeconds(SessionTokens.CLOCK_SKEW_SECONDS + 1);
    assertThatThrownBy(() -> memo.check(t, keys, early)).hasMessageContaining("not yet valid");
  }

  @Test
  void aRefusedTokenIsNeverRememberedAndTheMemoIsBounded() {
    SessionClaimsMemo memo = new SessionClaimsMemo("audit", 2);
    String t = token(now);
    assertThatThrownBy(() -> memo.check(t, keys, now)).hasMessageContaining("not for audit");
    String[] parts = t.split("\\.");
    byte[] sig = Base64URL.from(parts[2]).decode();
    sig[0] ^= 1;
    String forged = parts[0] + "." + parts[1] + "." + Base64URL.encode(sig);
    SessionClaimsMemo relay = new SessionClaimsMemo("relay", 2);
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> relay.check(forged, keys, now)).hasMessageContaining("signature");
    }
    assertThatThrownBy(() -> relay.check(null, keys, now))
        .isInstanceOf(InvalidSessionException.class);
    assertThat(memo.size() + relay.size()).isZero();
    for (int i = 0; i < 5; i++) {
      relay.check(token(now.minusSeconds(i)), keys, now);
    }
    assertThat(relay.size()).isEqualTo(2);
  }
}
