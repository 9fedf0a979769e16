package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.proto.SeedMutations;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the notice reader ({@link Notices#open}), without a bus. The first byte chooses
 * whether the rest is a notice sealed with the right MAC for the channel at the reader's time (so
 * mutants reach the parser behind the seal; one sealed twice is refused as replayed) or a raw bus
 * body. Contract: never an exception; either a refusal or a notice, never both; a notice names a
 * message, and a copy it carries is that message's, with a positive seq, a known sender kind and at
 * most {@link Notices#MAX_CARRIED_CIPHERTEXT} bytes; a raw body (whose MAC a mutant does not forge)
 * is never admitted.
 */
class NoticesFuzzTest {
  static final UUID WS = UUID.fromString("11111111-2222-4333-8444-555555555555");
  static final UUID RECIPIENT = UUID.fromString("66666666-7777-4888-9999-aaaaaaaaaaaa");
  static final String CHANNEL = BusNames.messageRecipient(WS, RECIPIENT);
  static final Notices NOTICES =
      new Notices(
          InternalCredential.of("fuzz-internal-credential-0123456789abcdef"),
          new SimpleMeterRegistry(),
          Clock.fixed(Instant.parse("2026-12-06T04:00:00Z"), ZoneOffset.UTC));

  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "noticesAreRefusedOrPushableNeverAnException",
                3_000,
                NoticesFuzzTest::check))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void noticesAreRefusedOrPushableNeverAnException(FuzzedDataProvider data) {
    check(data.consumeRemainingAsBytes());
  }

  private static void check(byte[] input) {
    if (input.length == 0) {
      return;
    }
    byte[] rest = Arrays.copyOfRange(input, 1, input.length);
    boolean sealed = (input[0] & 1) == 0;
    Buffer body = sealed ? NOTICES.seal(CHANNEL, rest) : Buffer.buffer(rest);
    Notices.Opened o = NOTICES.open(WS, RECIPIENT, body);
    assertThat(o.notice() == null).isNotEqualTo(o.refusal() == null);
    if (!sealed) {
      assertThat(o.notice()).isNull();
    }
    if (o.notice() == null || o.notice().copy() == null) {
      return;
    }
    MessageStore.Stored c = o.notice().copy();
    assertThat(c.id()).isEqualTo(o.notice().messageId());
    assertThat(c.seq()).isPositive();
    assertThat(c.senderKind()).isIn("device", "agent");
    assertThat(c.ciphertext().length).isLessThanOrEqualTo(Notices.MAX_CARRIED_CIPHERTEXT);
    assertThat(c.toJson().getString("created_at")).isNotEmpty();
  }
}
