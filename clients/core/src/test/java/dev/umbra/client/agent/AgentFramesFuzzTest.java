package dev.umbra.client.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.proto.SeedMutations;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the agent session frame parser (docs/agents.md, "Session frames"), as a runtime,
 * a client and the daemon are read. Contract: any bytes are admitted or refused with a typed {@link
 * AgentFrames.Refusal} only; an admitted frame holds its type and only that type's members; once
 * numbered, its bytes read back as the daemon's to the same frame.
 */
class AgentFramesFuzzTest {
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(), "framesParseOrAreRefused", 3_000, this::framesParseOrAreRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void framesParseOrAreRefused(byte[] input) throws Exception {
    byte[] copy = input.clone();
    for (AgentFrames.Source from : AgentFrames.Source.values()) {
      AgentFrame f;
      try {
        f = AgentFrames.parse(input, from);
      } catch (AgentFrames.FrameException e) {
        assertThat(e.refusal()).isNotNull();
        continue;
      }
      assertThat(f.json().getString("type")).isEqualTo(f.type().wire());
      assertThat(f.json().fieldNames())
          .isSubsetOf(
              "type",
              "seq",
              "state",
              "message",
              "text",
              "id",
              "name",
              "input",
              "output",
              "error",
              "question",
              "answer",
              "code",
              "sessions",
              "next_seq",
              "more",
              "kind",
              "options",
              "default",
              "deadline_seconds",
              "item_id",
              "status",
              "reason");
      if (f.type().session()) {
        AgentFrame numbered = f.numbered(Long.MAX_VALUE / 2);
        assertThat(numbered.bytes().length)
            .as("numbering never takes a frame over the daemon's limit")
            .isLessThanOrEqualTo(AgentFrames.MAX_NUMBERED_FRAME_BYTES);
        assertThat(AgentFrames.parse(numbered.bytes(), AgentFrames.Source.DAEMON))
            .isEqualTo(numbered);
      }
    }
    assertThat(input).isEqualTo(copy);
  }
}
