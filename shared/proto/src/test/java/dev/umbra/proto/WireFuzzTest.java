package dev.umbra.proto;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.WebTtyFrame;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of {@link Wire#parseAliased}, the parser every relay and WebTTY frame from outside
 * goes through. Contract: the input is refused with {@link InvalidProtocolBufferException} or
 * parsed to exactly what the copying parser gives; parsing a slice of a larger array reads only the
 * slice; the message round-trips through its encoding; and the input array is never changed.
 */
class WireFuzzTest {
  private static final List<Parser<? extends MessageLite>> PARSERS =
      List.of(
          RelayFrame.parser(),
          WebTtyFrame.parser(),
          AuditEvent.parser(),
          RecordingHeader.parser(),
          RecordedEvent.parser());

  /** Every build: the seeds and 3,000 deterministic mutants of them, through every parser. */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "aliasedParsingEqualsCopyingParsingOrRefuses",
                3_000,
                input -> {
                  for (Parser<? extends MessageLite> parser : PARSERS) {
                    check(parser, input.length % 9, input);
                  }
                }))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void aliasedParsingEqualsCopyingParsingOrRefuses(FuzzedDataProvider data) throws Exception {
    Parser<? extends MessageLite> parser = PARSERS.get(data.consumeInt(0, PARSERS.size() - 1));
    int before = data.consumeInt(0, 8);
    check(parser, before, data.consumeRemainingAsBytes());
  }

  private static void check(Parser<? extends MessageLite> parser, int before, byte[] body)
      throws Exception {
    byte[] padded = new byte[before + body.length + 3];
    Arrays.fill(
        padded, (byte) 0x0a); // a field tag: bytes outside the slice would change the result
    System.arraycopy(body, 0, padded, before, body.length);
    byte[] original = body.clone();

    MessageLite aliased;
    try {
      aliased = Wire.parseAliased(parser, body);
    } catch (InvalidProtocolBufferException e) {
      assertThat(refuses(parser, padded, before, body.length))
          .as("the slice is refused as the whole")
          .isTrue();
      return;
    }
    assertThat(body).as("the input is not changed").isEqualTo(original);
    MessageLite copied = parser.parseFrom(original);
    assertThat(aliased).isEqualTo(copied);
    assertThat(Wire.parseAliased(parser, padded, before, body.length)).isEqualTo(aliased);
    assertThat(Wire.parseAliased(parser, aliased.toByteArray())).isEqualTo(aliased);
  }

  private static boolean refuses(
      Parser<? extends MessageLite> parser, byte[] bytes, int offset, int length) {
    try {
      Wire.parseAliased(parser, bytes, offset, length);
      return false;
    } catch (InvalidProtocolBufferException e) {
      return true;
    }
  }
}
