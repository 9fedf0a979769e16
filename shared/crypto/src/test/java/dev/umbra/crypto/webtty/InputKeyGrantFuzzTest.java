package dev.umbra.crypto.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.proto.SeedMutations;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the parser of the daemon-signed input key grant (what a new controller reads from
 * a frame the engine could have written). Contract: outside bytes either fail with a {@link
 * CryptoException} (malformed, unsupported suite) or give a grant whose canonical JSON is exactly
 * the input bytes (nothing is dropped, defaulted or reordered). The signature check comes before
 * this parser in {@link InputKeyGrant#verify}; fuzzing the parser itself covers what a signer's bug
 * could feed it. Seeds: {@code InputKeyGrantFuzzTestInputs/}.
 */
class InputKeyGrantFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "parsesToTheSameBytesOrRefuses",
                3_000,
                this::parsesToTheSameBytesOrRefuses))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void parsesToTheSameBytesOrRefuses(byte[] input) {
    InputKeyGrant g;
    try {
      g = InputKeyGrant.parse(input);
    } catch (CryptoException e) {
      return; // the documented refusals
    }
    assertThat(CanonicalJson.encode(g.toJson())).isEqualTo(input);
    assertThat(g.epoch()).isPositive();
    assertThat(g.grantFor(g.controllerKeyId())).isNotNull();
  }
}
