package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.bus.SealedNotices.Refusal;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A sealed notice opens only as published: on its channel, of its type, under the same credential,
 * within the window, once; anything else is refused with its reason before it is parsed.
 */
class SealedNoticesTest {
  private static final String CREDENTIAL = "a-test-internal-credential-of-32-chars-or-more";
  private static final String CHANNEL = "umbra.webtty.takeovers";
  private static final byte[] NOTICE = "takeover of s1".getBytes(StandardCharsets.UTF_8);

  private final AtomicLong clock = new AtomicLong(1_780_000_000_000L);
  private final SealedNotices seals = notices(CREDENTIAL, CryptoConstants.WEBTTY_TAKEOVER_DOMAIN);

  private SealedNotices notices(String credential, String domain) {
    return new SealedNotices(credential, domain, 64, clock::get);
  }

  @Test
  void aSealedNoticeOpensOnItsChannel() {
    SealedNotices.Opened o = seals.open(CHANNEL, seals.seal(CHANNEL, NOTICE));
    assertThat(o.refusal()).isNull();
    assertThat(o.notice()).isEqualTo(NOTICE);
  }

  @Test
  void anUnsealedNoticeAnOlderInstancesIsRefusedAsUnknownVersion() {
    // an older instance's takeover is the bare protobuf: its first byte is a field tag, never 0x01
    byte[] bare = new byte[60];
    bare[0] = 0x0a;
    assertThat(seals.open(CHANNEL, Buffer.buffer(bare)).refusal())
        .isEqualTo(Refusal.UNKNOWN_VERSION);
  }

  @Test
  void truncatedAndOversizedBodiesAreRefusedBeforeTheMac() {
    Buffer sealed = seals.seal(CHANNEL, NOTICE);
    for (int n = 0; n < SealedNotices.HEADER; n++) {
      assertThat(seals.open(CHANNEL, sealed.getBuffer(0, n)).refusal())
          .isEqualTo(Refusal.TRUNCATED);
    }
    Buffer big = seals.seal(CHANNEL, new byte[65]);
    assertThat(seals.open(CHANNEL, big).refusal()).isEqualTo(Refusal.OVERSIZED);
    assertThat(seals.open(CHANNEL, seals.seal(CHANNEL, new byte[64])).refusal()).isNull();
  }

  @Test
  void aForgedOrAlteredNoticeIsRefusedAsBadMac() {
    Buffer sealed = seals.seal(CHANNEL, NOTICE);
    for (int i = 1; i < sealed.length(); i++) { // every byte after the version: time, MAC, notice
      Buffer flipped = sealed.copy();
      flipped.setByte(i, (byte) (flipped.getByte(i) ^ 0x01));
      assertThat(seals.open(CHANNEL, flipped).refusal())
          .as("byte %d", i)
          .isEqualTo(Refusal.BAD_MAC);
    }
    assertThat(seals.open(CHANNEL, sealed.getBuffer(0, sealed.length() - 1)).refusal())
        .isEqualTo(Refusal.BAD_MAC);
    assertThat(seals.open("umbra.relay.routes", sealed).refusal()).isEqualTo(Refusal.BAD_MAC);
  }

  @Test
  void anotherCredentialOrAnotherMessageTypeDoesNotVerify() {
    Buffer otherCredential =
        notices(CREDENTIAL + "-other", CryptoConstants.WEBTTY_TAKEOVER_DOMAIN)
            .seal(CHANNEL, NOTICE);
    Buffer otherType =
        notices(CREDENTIAL, CryptoConstants.RELAY_TAKEOVER_DOMAIN).seal(CHANNEL, NOTICE);
    assertThat(seals.open(CHANNEL, otherCredential).refusal()).isEqualTo(Refusal.BAD_MAC);
    assertThat(seals.open(CHANNEL, otherType).refusal()).isEqualTo(Refusal.BAD_MAC);
  }

  @Test
  void aReplayWithinTheWindowIsRefusedAndAfterItIsStale() {
    Buffer sealed = seals.seal(CHANNEL, NOTICE);
    assertThat(seals.open(CHANNEL, sealed).refusal()).isNull();
    assertThat(seals.open(CHANNEL, sealed).refusal()).isEqualTo(Refusal.REPLAYED);
    clock.addAndGet(CryptoConstants.BUS_SEAL_WINDOW_MILLIS);
    assertThat(seals.open(CHANNEL, sealed).refusal()).isEqualTo(Refusal.REPLAYED);
    clock.incrementAndGet();
    assertThat(seals.open(CHANNEL, sealed).refusal()).isEqualTo(Refusal.STALE);
  }

  @Test
  void aNoticeFromTooFarAheadIsStale() {
    long now = clock.get();
    clock.set(now + CryptoConstants.BUS_SEAL_WINDOW_MILLIS + 1);
    Buffer ahead = seals.seal(CHANNEL, NOTICE);
    clock.set(now);
    assertThat(seals.open(CHANNEL, ahead).refusal()).isEqualTo(Refusal.STALE);
  }

  @Test
  void twoNoticesOfTheSameContentAtDifferentTimesBothOpen() {
    Buffer first = seals.seal(CHANNEL, NOTICE);
    clock.incrementAndGet();
    Buffer second = seals.seal(CHANNEL, NOTICE);
    assertThat(seals.open(CHANNEL, first).refusal()).isNull();
    assertThat(seals.open(CHANNEL, second).refusal()).isNull();
  }

  @Test
  void theReplayMemoryIsBounded() {
    for (int i = 0; i < SealedNotices.REMEMBERED + 10; i++) {
      clock.addAndGet(i % 2); // many notices inside one window
      assertThat(seals.open(CHANNEL, seals.seal(CHANNEL, ("n" + i).getBytes())).refusal()).isNull();
    }
    assertThat(seals.remembered()).isEqualTo(SealedNotices.REMEMBERED);
  }

  /** Fuzz: random bodies and random mutations of a sealed one never open and never throw. */
  @Test
  void randomBodiesNeverOpen() {
    Random random = new Random(20261206);
    Buffer sealed = seals.seal(CHANNEL, NOTICE);
    for (int i = 0; i < 20_000; i++) {
      Buffer body;
      if (i % 2 == 0) {
        byte[] b = new byte[random.nextInt(SealedNotices.HEADER + 80)];
        random.nextBytes(b);
        if (b.length > 0 && random.nextBoolean()) {
          b[0] = CryptoConstants.BUS_SEAL_VERSION;
        }
        body = Buffer.buffer(b);
      } else {
        body = sealed.copy();
        body.setByte(1 + random.nextInt(sealed.length() - 1), (byte) (1 + random.nextInt(255)));
      }
      SealedNotices.Opened o = seals.open(CHANNEL, body);
      if (!body.equals(sealed)) {
        assertThat(o.refusal()).isNotNull();
        assertThat(o.notice()).isNull();
      }
    }
  }
}
