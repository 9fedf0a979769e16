package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the live socket's inbound frames ({@link LiveFrames#parse}, what {@code
 * LiveDelivery} reads from a recipient's WebSocket), without a server. Contract: never an
 * exception; a refusal or a frame, never both; a ping carries no ids; an ack was a JSON object of
 * exactly {@code type} and {@code ids}, and its 1 to {@value LiveFrames#MAX_ACK_IDS} ids are the
 * frame's strings in order, each a UUID in its 36-character form; an admitted frame, written back,
 * parses to the same frame; nothing over {@link LiveFrames#MAX_FRAME_CHARS} is admitted.
 */
class LiveFramesFuzzTest {
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "framesArePingsAcksOfOneToTwoHundredIdsOrRefusedNeverAnException",
                3_000,
                input -> check(new String(input, StandardCharsets.UTF_8))))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void framesArePingsAcksOfOneToTwoHundredIdsOrRefusedNeverAnException(FuzzedDataProvider data) {
    check(data.consumeRemainingAsString());
  }

  private static void check(String text) {
    LiveFrames.Frame f = LiveFrames.parse(text);
    assertThat(f.kind() == null).isNotEqualTo(f.refusal() == null);
    if (f.refusal() != null) {
      assertThat(f.ids()).isEmpty();
      return;
    }
    assertThat(text.length()).isLessThanOrEqualTo(LiveFrames.MAX_FRAME_CHARS);
    JsonObject json = new JsonObject(text);
    if (f.kind() == LiveFrames.Kind.PING) {
      assertThat(json.getValue("type")).isEqualTo("ping");
      assertThat(f.ids()).isEmpty();
      assertThat(LiveFrames.parse(new JsonObject().put("type", "ping").encode())).isEqualTo(f);
      return;
    }
    assertThat(json.fieldNames()).containsExactlyInAnyOrder("type", "ids");
    assertThat(json.getValue("type")).isEqualTo("ack");
    JsonArray given = json.getJsonArray("ids");
    assertThat(f.ids()).hasSizeBetween(1, LiveFrames.MAX_ACK_IDS).hasSize(given.size());
    JsonArray written = new JsonArray();
    for (int i = 0; i < given.size(); i++) {
      UUID id = f.ids().get(i);
      assertThat(given.getString(i)).hasSize(36).isEqualToIgnoringCase(id.toString());
      written.add(id.toString());
    }
    assertThat(LiveFrames.parse(new JsonObject().put("type", "ack").put("ids", written).encode()))
        .isEqualTo(f);
  }
}
