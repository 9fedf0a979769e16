package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.proto.SeedMutations;
import dev.umbra.proto.channel.ChannelReason;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the parser of Noise message 1's payload (docs/relay.md, "Message 1"), which the
 * daemon runs on bytes any holder of a client key sends. Contract: any bytes are read or refused
 * with one of the payload's typed reasons only, never another exception; what is read is exactly
 * its own canonical encoding, and it never changes the input.
 */
class HandshakePayloadFuzzTest {
  private static final Set<ChannelReason> REASONS =
      Set.of(
          ChannelReason.CHANNEL_REASON_HANDSHAKE_TIME_MISSING,
          ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE);

  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(), "payloadsParseOrAreRefused", 3_000, this::payloadsParseOrAreRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void payloadsParseOrAreRefused(byte[] input) throws Exception {
    byte[] copy = input.clone();
    HandshakePayload p;
    try {
      p = HandshakePayload.parse(input);
    } catch (HandshakePayload.RefusedException e) {
      assertThat(e.reason()).isIn(REASONS);
      assertThat(input).isEqualTo(copy);
      return;
    }
    assertThat(input.length).isBetween(1, HandshakePayload.MAX_BYTES);
    assertThat(Arrays.equals(p.encode(), input))
        .as("only its own canonical bytes are read")
        .isTrue();
    assertThat(input).isEqualTo(copy);
  }
}
