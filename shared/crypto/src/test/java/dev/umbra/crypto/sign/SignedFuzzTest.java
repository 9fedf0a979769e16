package dev.umbra.crypto.sign;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the daemon's signed trust objects ({@code {"payload": ..., "signature": ...}}
 * from the control plane's trust sync). Contract: {@link Signed#fromJson} refuses with {@link
 * MalformedInputException} only; what it admits has a canonical JSON object as payload (its own
 * canonical form), a 64-byte signature, and round-trips through {@link Signed#toJson}.
 */
class SignedFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "signedObjectsAreCanonicalOrRefused",
                3_000,
                this::signedObjectsAreCanonicalOrRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void signedObjectsAreCanonicalOrRefused(byte[] input) {
    Object json;
    try {
      json = Json.decodeValue(new String(input, StandardCharsets.UTF_8));
    } catch (DecodeException e) {
      return; // not JSON: refused before Signed sees it
    }
    if (!(json instanceof JsonObject j)) {
      return;
    }
    Signed s;
    try {
      s = Signed.fromJson(j);
    } catch (MalformedInputException e) {
      return;
    }
    assertThat(s.signature()).hasSize(64);
    assertThat(CanonicalJson.canonicalize(s.payload())).isEqualTo(s.payload());
    assertThat(s.fields()).isNotNull();
    assertThat(Signed.fromJson(s.toJson())).isEqualTo(s);
    assertThat(s.payload().length()).isLessThanOrEqualTo(Signed.MAX_PAYLOAD);
  }
}
