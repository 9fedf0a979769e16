package dev.umbra.crypto.secret;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.internal.Blake2b;
import dev.umbra.crypto.testing.Hex;
import dev.umbra.crypto.testing.Vectors;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class Blake2b256Test {
  @Test
  void hashesKnownAnswers() {
    // RFC 7693 / reference implementation, BLAKE2b with 32-byte output
    assertThat(Hex.e(Blake2b256.hash(new byte[0])))
        .isEqualTo("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    assertThat(Hex.e(Blake2b256.hash("abc".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  }

  @Test
  void matchesInConstantTimeComparison() {
    byte[] stored = Blake2b256.hash(new byte[] {7});
    assertThat(Blake2b256.matches(new byte[] {7}, stored)).isTrue();
    assertThat(Blake2b256.matches(new byte[] {8}, stored)).isFalse();
  }

  @Test
  void constantTimeEqualsComparesContentAndLength() {
    assertThat(ConstantTime.equals(new byte[] {1, 2}, new byte[] {1, 2})).isTrue();
    assertThat(ConstantTime.equals(new byte[] {1, 2}, new byte[] {1, 3})).isFalse();
    assertThat(ConstantTime.equals(new byte[] {1, 2}, new byte[] {1})).isFalse();
    assertThat(ConstantTime.equals(null, new byte[] {1})).isFalse();
  }

  @Test
  void replaysBlake2bJsonKats() {
    JsonNode kats = Vectors.json("blake2/blake2b-kat.json");
    List<String> failures = new ArrayList<>();
    int passed = 0;
    for (JsonNode kat : kats) {
      byte[] out = blake2b512(Hex.d(kat.get("key").asText()), Hex.d(kat.get("in").asText()));
      if (Hex.e(out).equals(kat.get("out").asText())) {
        passed++;
      } else {
        failures.add(
            "in="
                + kat.get("in").asText().length() / 2
                + " key="
                + kat.get("key").asText().length() / 2);
      }
    }
    assertThat(failures).isEmpty();
    assertThat(passed).isEqualTo(512);
    Vectors.report("blake2/blake2b-kat.json", passed, 0, 0, "skipped");
  }

  @Test
  void replaysBlake2bTextKats() {
    String text = Vectors.text("blake2/blake2b-kat.txt");
    Matcher m =
        Pattern.compile("in:\\s*([0-9a-f]*)\\s*\\nkey:\\s*([0-9a-f]*)\\s*\\nhash:\\s*([0-9a-f]+)")
            .matcher(text);
    List<String> failures = new ArrayList<>();
    int passed = 0;
    while (m.find()) {
      if (Hex.e(blake2b512(Hex.d(m.group(2)), Hex.d(m.group(1)))).equals(m.group(3))) {
        passed++;
      } else {
        failures.add("in length " + m.group(1).length() / 2);
      }
    }
    assertThat(failures).isEmpty();
    assertThat(passed).isEqualTo(256);
    Vectors.report("blake2/blake2b-kat.txt", passed, 0, 0, "skipped");
  }

  private static byte[] blake2b512(byte[] key, byte[] in) {
    return Blake2b.digest(key, 64, in);
  }
}
