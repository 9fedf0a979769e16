package dev.umbra.relay.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.secret.MeshProofs;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.MeshProofKey;
import dev.umbra.proto.testing.MutableClock;
import dev.umbra.relay.wire.MeshRefusal;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * Mesh link proofs (docs/relay.md, "Mesh link authentication"): what a dialler sends instead of the
 * internal credential, and every way the acceptor refuses one, each with its own reason.
 */
class MeshAuthTest {
  private static final String CREDENTIAL = "mesh-auth-test-credential-0123456789abcdef";
  private static final String A = "01AAAAAAAAAAAAAAAAAAAAAAAA";
  private static final String B = "01BBBBBBBBBBBBBBBBBBBBBBBB";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-05T19:00:00Z"));
  private final MeshAuth a = new MeshAuth(InternalCredential.of(CREDENTIAL), A, clock);
  private final MeshAuth b = new MeshAuth(InternalCredential.of(CREDENTIAL), B, clock);

  private static String proof(
      String credential, String dialler, String target, long seconds, byte[] nonce) {
    byte[] mac =
        MeshProofKey.of(InternalCredential.of(credential)).mac(dialler, target, seconds, nonce);
    return MeshAuth.encode(target, seconds, nonce, mac);
  }

  private long now() {
    return clock.instant().getEpochSecond();
  }

  @Test
  void aProofCarriesNeitherTheCredentialNorAnythingOfItButTheMac() {
    String p = a.proof(B);
    assertThat(p).doesNotContain(CREDENTIAL);
    assertThat(p.split("\\.")).hasSize(5);
    assertThat(p).startsWith("v1." + B + "." + now() + ".");
    assertThat(p.length()).isLessThanOrEqualTo(MeshAuth.MAX_HEADER_CHARS);
    // the mesh key is derived for the mesh only: it is not the credential, nor its bytes
    assertThat(MeshProofs.key(CREDENTIAL)).hasSize(32).isNotEqualTo(CREDENTIAL.getBytes());
  }

  @Test
  void aFreshProofForThisInstanceIsAdmittedOnce() {
    String p = a.proof(B);
    assertThat(b.check(A, p)).isNull();
    assertThat(b.check(A, p)).isEqualTo(MeshRefusal.REPLAYED);
  }

  @Test
  void aProofForAnotherInstanceIsRefusedThere() {
    // what a fake peer listed in the presence under id "01EVIL" receives, replayed to a real one
    String toFake = a.proof("01EVIL");
    assertThat(b.check(A, toFake)).isEqualTo(MeshRefusal.WRONG_TARGET);
    // re-addressing it to the real instance breaks the MAC
    assertThat(b.check(A, toFake.replace("01EVIL", B))).isEqualTo(MeshRefusal.BAD_MAC);
  }

  @Test
  void theMacCoversTheDiallerTheTargetTheTimeAndTheNonce() {
    byte[] nonce = new byte[16];
    String good = proof(CREDENTIAL, A, B, now(), nonce);
    String[] f = good.split("\\.");
    assertThat(b.check("01OTHERDIALLER", good)).isEqualTo(MeshRefusal.BAD_MAC);
    assertThat(b.check(A, String.join(".", f[0], f[1], Long.toString(now() + 1), f[3], f[4])))
        .isEqualTo(MeshRefusal.BAD_MAC);
    nonce[0] = 1;
    assertThat(b.check(A, String.join(".", f[0], f[1], f[2], B64.encodeToString(nonce), f[4])))
        .isEqualTo(MeshRefusal.BAD_MAC);
    assertThat(b.check(A, proof("another-credential-0123456789abcdef0123", A, B, now(), nonce)))
        .isEqualTo(MeshRefusal.BAD_MAC);
    assertThat(b.check(A, good)).isNull();
  }

  @Test
  void aProofOutsideTheWindowIsStaleOrFromTheFuture() {
    assertThat(b.check(A, proof(CREDENTIAL, A, B, now() - 31, new byte[16])))
        .isEqualTo(MeshRefusal.STALE);
    assertThat(b.check(A, proof(CREDENTIAL, A, B, now() + 31, new byte[16])))
        .isEqualTo(MeshRefusal.FUTURE);
    byte[] n1 = new byte[16];
    n1[0] = 1;
    byte[] n2 = new byte[16];
    n2[0] = 2;
    assertThat(b.check(A, proof(CREDENTIAL, A, B, now() - 30, n1))).isNull();
    assertThat(b.check(A, proof(CREDENTIAL, A, B, now() + 30, n2))).isNull();
    // a captured proof goes stale by itself
    String later = a.proof(B);
    clock.advance(Duration.ofSeconds(31));
    assertThat(b.check(A, later)).isEqualTo(MeshRefusal.STALE);
  }

  @Test
  void aNonceIsRememberedForTheWindowOnlyAndWithinABound() {
    MeshAuth small = new MeshAuth(InternalCredential.of(CREDENTIAL), B, clock, 2);
    assertThat(small.check(A, a.proof(B))).isNull();
    assertThat(small.check(A, a.proof(B))).isNull();
    // full of nonces still in their window: refused rather than forgetting one early
    assertThat(small.check(A, a.proof(B))).isEqualTo(MeshRefusal.BUSY);
    clock.advance(Duration.ofSeconds(31));
    assertThat(small.check(A, a.proof(B))).isNull();
    assertThat(small.remembered()).isEqualTo(1);
  }

  @Test
  void aClockThatStepsBackDoesNotReadmitAForgottenNonce() {
    MeshAuth small = new MeshAuth(InternalCredential.of(CREDENTIAL), B, clock, 2);
    String first = a.proof(B);
    assertThat(small.check(A, first)).isNull();
    clock.advance(Duration.ofSeconds(31));
    assertThat(small.check(A, a.proof(B))).isNull();
    assertThat(small.check(A, a.proof(B))).isNull(); // full: first's nonce is forgotten
    clock.advance(Duration.ofSeconds(31));
    assertThat(small.check(A, a.proof(B))).isNull(); // the other two are forgotten: room again
    assertThat(small.remembered()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(-62)); // the clock steps back to first's second
    assertThat(small.check(A, first)).isEqualTo(MeshRefusal.STALE);
  }

  @Test
  void missingTruncatedOversizedOrMalformedHeadersAreRefusedAsSuch() {
    String good = a.proof(B);
    String[] f = good.split("\\.");
    assertThat(b.check(A, null)).isEqualTo(MeshRefusal.MISSING);
    String[] malformed = {
      "",
      good.substring(0, good.length() - 1),
      good + "A",
      good + "." + f[4],
      "x".repeat(MeshAuth.MAX_HEADER_CHARS + 1),
      good.replaceFirst("^v1", "v2"),
      String.join(".", f[0], "../x", f[2], f[3], f[4]),
      String.join(".", f[0], f[1], "0" + f[2], f[3], f[4]),
      String.join(".", f[0], f[1], "-" + f[2], f[3], f[4]),
      String.join(".", f[0], f[1], "1e9", f[3], f[4]),
      String.join(".", f[0], f[1], "9".repeat(19), f[3], f[4]),
      String.join(".", f[0], f[1], f[2], f[3] + "==", f[4]),
      String.join(".", f[0], f[1], f[2], f[3].replace(f[3].charAt(0), '+'), f[4]),
      String.join(".", f[0], f[1], f[2], f[3], f[4].substring(0, 42) + "_"),
      String.join("..", f),
    };
    for (String h : malformed) {
      assertThat(b.check(A, h)).as(h).isEqualTo(MeshRefusal.MALFORMED);
    }
    assertThat(b.check(null, good)).isEqualTo(MeshRefusal.MALFORMED);
    assertThat(b.check("not an id", good)).isEqualTo(MeshRefusal.MALFORMED);
    // none of it used the nonce up
    assertThat(b.check(A, good)).isNull();
  }

  @Test
  void aNonceSpelledTwoWaysIsOneNonce() {
    byte[] nonce = new byte[16];
    String good = proof(CREDENTIAL, A, B, now(), nonce);
    String[] f = good.split("\\.");
    // 16 bytes in 22 characters leave 4 spare bits: only the spelling with them zero is accepted
    String other = f[3].substring(0, 21) + "B";
    assertThat(Base64.getUrlDecoder().decode(other)).isEqualTo(nonce);
    assertThat(b.check(A, String.join(".", f[0], f[1], f[2], other, f[4])))
        .isEqualTo(MeshRefusal.MALFORMED);
  }
}
