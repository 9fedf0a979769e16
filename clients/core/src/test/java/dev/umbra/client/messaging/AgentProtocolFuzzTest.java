package dev.umbra.client.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the agent socket's input (docs/messaging.md, "Agent socket"). Contract: any byte
 * stream is served without an exception; every answer is one JSON object line, {@code ok} or a
 * known error code; a request reaches the handler only when it parsed; the connection ends at the
 * first framing error.
 */
class AgentProtocolFuzzTest {
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(), "linesParseOrAreRefused", 3_000, this::linesParseOrAreRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void linesParseOrAreRefused(byte[] input) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int[] handled = {0};
    AgentSocket.serve(
        new ByteArrayInputStream(input),
        out,
        r -> {
          assertThat(r).isNotNull();
          handled[0]++;
          return AgentProtocol.ok(new JsonObject().put("n", handled[0]));
        });
    String text = out.toString(StandardCharsets.UTF_8);
    long lines = text.chars().filter(c -> c == '\n').count();
    long inputLines = 0;
    for (byte b : input) {
      inputLines += b == '\n' ? 1 : 0;
    }
    assertThat(lines).isLessThanOrEqualTo(inputLines + 1);
    int ok = 0;
    for (String l : text.split("\n")) {
      if (l.isEmpty()) {
        continue;
      }
      JsonObject j = new JsonObject(l);
      if (j.getBoolean("ok")) {
        ok++;
      } else {
        assertThat(
                AgentProtocol.Refusal.valueOf(
                    j.getString("error").toUpperCase(java.util.Locale.ROOT)))
            .isNotNull();
      }
    }
    assertThat(ok).isEqualTo(handled[0]);
  }
}
