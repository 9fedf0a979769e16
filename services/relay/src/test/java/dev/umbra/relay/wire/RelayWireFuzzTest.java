package dev.umbra.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.proto.SeedMutations;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the relay's frame parser (every WebSocket message of a daemon or client, and
 * every batch from another instance). Contract: a message is refused with {@link
 * InvalidProtocolBufferException} or parsed to what the copying parser gives, whether it arrives in
 * a heap buffer or a copy; the frame round-trips through its encoding; the checks the relay applies
 * next ({@link RelayWire#validTarget}, {@link RelayWire#tag}) never throw; a batch's frame spans
 * ({@link RelayWire#batchFrameSpans}) are its frames' own bytes.
 */
class RelayWireFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "framesParseLikeTheCopyingParserOrAreRefused",
                3_000,
                this::framesParseLikeTheCopyingParserOrAreRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void framesParseLikeTheCopyingParserOrAreRefused(byte[] input) throws Exception {
    batchesParseWithSpansOfTheirFrames(input);
    RelayFrame frame;
    try {
      frame = RelayWire.parse(Buffer.buffer(input));
    } catch (InvalidProtocolBufferException e) {
      frame = null;
    }
    RelayFrame copied;
    try {
      copied = RelayFrame.parseFrom(input);
    } catch (InvalidProtocolBufferException e) {
      copied = null;
    }
    if (frame == null) {
      // the aliasing parser refuses also what the copying one would take with a trailing group end
      return;
    }
    assertThat(frame).isEqualTo(copied);
    assertThat(RelayWire.parse(Buffer.buffer(frame.toByteArray()))).isEqualTo(frame);
    RelayWire.validTarget(frame.getTargetId());
    assertThat(RelayWire.tag(frame.getType())).isNotEmpty();
    if (frame.getType() != FrameType.UNRECOGNIZED) {
      assertThat(RelayWire.tag(frame.getType())).matches("[a-z_]+");
    }
  }

  /**
   * A batch from a link parses or is refused; the frame spans of a parsed one are exactly its
   * frames' bytes (what the relay writes on), and the spans never throw anything but a refusal.
   */
  static void batchesParseWithSpansOfTheirFrames(byte[] input) throws Exception {
    RelayBusBatch batch;
    try {
      batch = RelayWire.parseBatch(Buffer.buffer(input));
    } catch (InvalidProtocolBufferException e) {
      return;
    }
    assertThat(RelayWire.parseBatch(Buffer.buffer(batch.toByteArray()))).isEqualTo(batch);
    Buffer message = Buffer.buffer(input);
    int[] spans = RelayWire.batchFrameSpans(message, batch.getFramesCount());
    for (int i = 0; i < batch.getFramesCount(); i++) {
      Buffer raw = message.slice(spans[2 * i], spans[2 * i] + spans[2 * i + 1]);
      assertThat(RelayWire.parse(raw)).isEqualTo(batch.getFrames(i));
    }
  }
}
