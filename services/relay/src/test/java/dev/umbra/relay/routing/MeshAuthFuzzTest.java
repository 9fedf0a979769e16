package dev.umbra.relay.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.proto.SeedMutations;
import dev.umbra.proto.testing.MutableClock;
import dev.umbra.relay.wire.MeshRefusal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the mesh proof header's parser ({@link MeshAuth#parse}), which runs on what any
 * caller of the mesh endpoint sends before it is authenticated. Contract: it never throws; what it
 * takes is at most {@link MeshAuth#MAX_HEADER_CHARS} and spelled the one way its fields encode to
 * (so a nonce has one spelling); {@link MeshAuth#check} never throws and admits nothing whose MAC
 * the fuzzer did not get from the credential's key.
 */
class MeshAuthFuzzTest {
  private static final String CREDENTIAL = "mesh-auth-fuzz-credential-0123456789abcdef";
  private static final String SELF = "01FUZZTARGET";

  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "proofHeadersParseCanonicallyOrAreRefused",
                3_000,
                this::proofHeadersParseCanonicallyOrAreRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void proofHeadersParseCanonicallyOrAreRefused(byte[] input) {
    String header = new String(input, StandardCharsets.UTF_8);
    MeshAuth.Proof p = MeshAuth.parse(header);
    if (p != null) {
      assertThat(header.length()).isLessThanOrEqualTo(MeshAuth.MAX_HEADER_CHARS);
      assertThat(MeshAuth.encode(p.target(), p.unixSeconds(), p.nonce(), p.mac()))
          .isEqualTo(header);
    }
    MeshAuth auth =
        new MeshAuth(
            InternalCredential.of(CREDENTIAL), SELF, new MutableClock(Instant.ofEpochSecond(0)));
    MeshRefusal refused = auth.check("01FUZZDIALLER", header);
    if (p == null) {
      assertThat(refused).isIn(MeshRefusal.MALFORMED, MeshRefusal.MISSING);
    } else {
      // the seeds hold no MAC made with this credential: nothing the fuzzer builds gets in
      assertThat(refused).isNotNull();
    }
  }
}
