package dev.umbra.crypto.noise;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.testing.Vectors;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NoiseVectorsTest {
  @ParameterizedTest
  @ValueSource(strings = {"noise/cacophony_IK_IKpsk2_25519.json", "noise/snow_IK_25519.json"})
  void replaysEveryIkAndIkpsk2Vector(String file) {
    JsonNode vectors = Vectors.json(file).get("vectors");
    List<String> failures = new ArrayList<>();
    int passed = 0;
    int skipped = 0;
    for (JsonNode v : vectors) {
      String name = v.get("protocol_name").asText();
      if (!name.startsWith("Noise_IK_") && !name.startsWith("Noise_IKpsk2_")) {
        skipped++;
        continue;
      }
      try {
        List<String> problems = NoiseConformance.replay(v);
        failures.addAll(problems);
        if (problems.isEmpty()) {
          passed++;
        }
      } catch (RuntimeException e) {
        failures.add(name + ": " + e);
      }
    }
    assertThat(failures).isEmpty();
    assertThat(passed).isGreaterThan(0);
    Vectors.report(file, passed, 0, skipped, "skipped (not IK/IKpsk2)");
  }
}
