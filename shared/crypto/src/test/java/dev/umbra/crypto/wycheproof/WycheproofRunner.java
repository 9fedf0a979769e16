package dev.umbra.crypto.wycheproof;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.testing.Vectors;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Runs every test of a Wycheproof file: a valid test must be accepted with the expected output, an
 * invalid one rejected with a {@link CryptoException}; an acceptable one may go either way but, if
 * accepted, must give the expected output. Failures are collected, then asserted empty.
 */
final class WycheproofRunner {
  /** What the implementation under test did with one test case. */
  record Outcome(boolean accepted, boolean correct, boolean skipped) {
    static Outcome accepted(boolean correct) {
      return new Outcome(true, correct, false);
    }

    static Outcome rejected() {
      return new Outcome(false, false, false);
    }

    /**
     * The API under test does not take these parameters by design; counted and reported as skipped.
     */
    static Outcome notApplicable() {
      return new Outcome(false, false, true);
    }
  }

  private WycheproofRunner() {}

  /** {@code test} receives (group, test case); a thrown CryptoException counts as a rejection. */
  static void run(String file, BiFunction<JsonNode, JsonNode, Outcome> test) {
    run(file, "", test);
  }

  static void run(String file, String label, BiFunction<JsonNode, JsonNode, Outcome> test) {
    JsonNode root = Vectors.json("wycheproof/" + file);
    List<String> failures = new ArrayList<>();
    int valid = 0;
    int invalid = 0;
    int acceptableAccepted = 0;
    int acceptableRejected = 0;
    int skipped = 0;
    for (JsonNode group : root.get("testGroups")) {
      for (JsonNode t : group.get("tests")) {
        String result = t.get("result").asText();
        String id =
            "tcId "
                + t.get("tcId").asInt()
                + " ("
                + t.get("comment").asText()
                + ", "
                + result
                + ")";
        Outcome outcome;
        try {
          outcome = test.apply(group, t);
        } catch (CryptoException e) {
          outcome = Outcome.rejected();
        } catch (RuntimeException e) {
          failures.add(id + ": unexpected " + e);
          continue;
        }
        if (outcome.skipped()) {
          skipped++;
          continue;
        }
        switch (result) {
          case "valid" -> {
            if (outcome.accepted() && outcome.correct()) {
              valid++;
            } else {
              failures.add(id + (outcome.accepted() ? ": wrong output" : ": rejected"));
            }
          }
          case "invalid" -> {
            if (!outcome.accepted()) {
              invalid++;
            } else {
              failures.add(id + ": accepted");
            }
          }
          case "acceptable" -> {
            if (outcome.accepted() && !outcome.correct()) {
              failures.add(id + ": accepted with wrong output");
            } else if (outcome.accepted()) {
              acceptableAccepted++;
            } else {
              acceptableRejected++;
            }
          }
          default -> failures.add(id + ": unknown result " + result);
        }
      }
    }
    assertThat(failures).as(file).isEmpty();
    assertThat(valid + invalid + acceptableAccepted + acceptableRejected + skipped)
        .isEqualTo(root.get("numberOfTests").asInt());
    Vectors.report(
        "wycheproof/" + file + label,
        valid,
        invalid,
        acceptableAccepted + acceptableRejected,
        "acceptable ("
            + acceptableAccepted
            + " accepted with correct output, "
            + acceptableRejected
            + " rejected), "
            + skipped
            + " not applicable to this API");
  }
}
