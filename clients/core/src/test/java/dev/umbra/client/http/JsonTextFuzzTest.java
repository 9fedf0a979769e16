package dev.umbra.client.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of {@link JsonText}'s parser (what the clients read from services and from their own
 * files). Contract: it refuses with {@link JsonText.MalformedJsonException} only (never a stack
 * overflow, a number format error or anything else); what it admits, Vert.x's codec admits too with
 * the same value, and it survives its own encoding unchanged.
 */
class JsonTextFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(), "parsedTextKeepsTheContract", 3_000, this::parsedTextKeepsTheContract))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void parsedTextKeepsTheContract(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    Object ours;
    try {
      ours = JsonText.parse(text);
    } catch (JsonText.MalformedJsonException e) {
      return;
    }
    Object theirs;
    try {
      theirs = Json.decodeValue(text);
    } catch (DecodeException e) {
      throw new AssertionError("admitted what Vert.x refuses: " + text, e);
    }
    assertThat(ours).isEqualTo(theirs);
    assertThat(JsonText.parse(JsonText.encode(ours))).isEqualTo(ours);
    assertThat(JsonText.parse(JsonText.encodePrettily(ours))).isEqualTo(ours);
  }
}
