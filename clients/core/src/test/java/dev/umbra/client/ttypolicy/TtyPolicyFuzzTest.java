package dev.umbra.client.ttypolicy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the WebTTY policy documents a daemon receives from the control plane ({@code
 * {"payload", "signature"?}}, docs/webtty.md "Server policy"). Contract: {@link
 * TtyPolicyPin.Document#fromJson} and {@link TtyPolicy#parse} refuse with {@link
 * MalformedInputException} only; a parsed policy is the canonical form of its payload; {@link
 * TtyPolicyPin#verify} never throws and, with no pin, accepts only unsigned documents of its own
 * machine.
 */
class TtyPolicyFuzzTest {
  static final Path DIR = Path.of(System.getProperty("java.io.tmpdir"));

  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "documentsParseCanonicallyOrAreRefused",
                3_000,
                this::documentsParseCanonicallyOrAreRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void documentsParseCanonicallyOrAreRefused(byte[] input) {
    Object json;
    try {
      json = Json.decodeValue(new String(input, StandardCharsets.UTF_8));
    } catch (DecodeException e) {
      return;
    }
    if (!(json instanceof JsonObject j)) {
      return;
    }
    TtyPolicyPin.Document d;
    try {
      d = TtyPolicyPin.Document.fromJson(j);
    } catch (MalformedInputException e) {
      return;
    }
    TtyPolicy p;
    try {
      p = TtyPolicy.parse(d.payload());
    } catch (MalformedInputException e) {
      assertThat(
              new TtyPolicyPin(DIR, UUID.randomUUID(), UUID.randomUUID())
                  .verify(d, Optional.empty()))
          .contains(TtyPolicyPin.Refusal.MALFORMED);
      return;
    }
    assertThat(p.canonical()).isEqualTo(d.payload());
    assertThat(p.version()).isPositive();
    Optional<TtyPolicyPin.Refusal> own =
        new TtyPolicyPin(DIR, p.workspaceId(), p.machineId()).verify(d, Optional.empty());
    if (d.signature() == null && p.signerDeviceId() == null) {
      assertThat(own).isEmpty();
    } else {
      assertThat(own).isPresent();
    }
    assertThat(new TtyPolicyPin(DIR, UUID.randomUUID(), p.machineId()).verify(d, Optional.empty()))
        .isPresent();
  }
}
