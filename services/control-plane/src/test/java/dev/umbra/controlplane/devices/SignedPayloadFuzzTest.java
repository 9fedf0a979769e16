package dev.umbra.controlplane.devices;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the signed trust payloads the control plane takes in request bodies (keysets,
 * device requests, credentials, revocations: {@code {"payload": "<canonical JSON>", "signature":
 * "<hex>"}}). Contract: {@link SignedPayload#parse} refuses with a 400 {@link ApiException} naming
 * the member and nothing else; what it admits is a canonical JSON object of the asked type, at most
 * {@link SignedPayload#MAX_PAYLOAD} characters, with a 64-byte signature, and round-trips through
 * {@link SignedPayload#toJson}.
 */
class SignedPayloadFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "signedPayloadsAreCanonicalOfTheirTypeOrRefusedWith400",
                3_000,
                this::signedPayloadsAreCanonicalOfTheirTypeOrRefusedWith400))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void signedPayloadsAreCanonicalOfTheirTypeOrRefusedWith400(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    // the fuzzer's bytes are the payload text, and (through the same bytes) a whole member
    JsonObject asMember;
    try {
      asMember = new JsonObject().put("keyset", new JsonObject(text));
    } catch (RuntimeException e) {
      asMember =
          new JsonObject()
              .put(
                  "keyset",
                  new JsonObject().put("payload", text).put("signature", "ab".repeat(64)));
    }
    SignedPayload p;
    try {
      p = SignedPayload.parse(asMember, "keyset", "keyset");
    } catch (ApiException e) {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.field()).isEqualTo("keyset");
      return;
    }
    assertThat(p.payload().length()).isBetween(1, SignedPayload.MAX_PAYLOAD);
    assertThat(CanonicalJson.canonicalize(p.payload())).isEqualTo(p.payload());
    assertThat(p.fields()).containsEntry("type", "keyset");
    assertThat(p.signature()).hasSize(64);
    SignedPayload again =
        SignedPayload.parse(new JsonObject().put("keyset", p.toJson()), "keyset", "keyset");
    assertThat(again.payload()).isEqualTo(p.payload());
    assertThat(again.signature()).isEqualTo(p.signature());
  }
}
