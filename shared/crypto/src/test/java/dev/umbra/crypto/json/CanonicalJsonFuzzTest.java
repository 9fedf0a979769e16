package dev.umbra.crypto.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.proto.SeedMutations;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the canonical JSON parser (every signed trust payload goes through it). Contract:
 * outside bytes either fail with {@link MalformedInputException} or give a value whose canonical
 * form is a fixed point (canonicalizing it again gives the same bytes, parsing it gives the same
 * value), is never longer than the input plus what escaping adds, and has no insignificant
 * whitespace. Seeds: {@code CanonicalJsonFuzzTestInputs/}; docs/security.md.
 */
class CanonicalJsonFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "canonicalFormIsAFixedPointOrTheInputIsRefused",
                3_000,
                this::canonicalFormIsAFixedPointOrTheInputIsRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void canonicalFormIsAFixedPointOrTheInputIsRefused(byte[] input) {
    Object value;
    try {
      value = CanonicalJson.parse(input);
    } catch (MalformedInputException e) {
      return; // the one documented refusal
    }
    byte[] canonical = CanonicalJson.encode(value);
    assertThat(CanonicalJson.canonicalize(canonical)).isEqualTo(canonical);
    assertThat(CanonicalJson.encode(CanonicalJson.parse(canonical))).isEqualTo(canonical);
    String text = new String(canonical, StandardCharsets.UTF_8);
    assertThat(CanonicalJson.canonicalize(text)).isEqualTo(text);
    // escaping can grow a string (a control character becomes \\u00XX): 6 bytes for 1 at most
    assertThat(canonical.length).isLessThanOrEqualTo(Math.max(4, input.length * 6));
    assertThat(Arrays.equals(canonical, text.getBytes(StandardCharsets.UTF_8))).isTrue();
  }
}
