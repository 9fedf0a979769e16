package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.bus.SealedNotices.Refusal;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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

  private SealedNotices remembering(int remembered) {
    return new SealedNotices(
        CREDENTIAL, CryptoConstants.WEBTTY_TAKEOVER_DOMAIN, 64, remembered, clock::get);
  }

  /** A genuine notice sealed by {@code by} at {@code millis}, whatever the clock says now. */
  private Buffer sealedAt(SealedNotices by, long millis, String text) {
    long now = clock.getAndSet(millis);
    try {
      return by.seal(CHANNEL, text.getBytes(StandardCharsets.UTF_8));
    } finally {
      clock.set(now);
    }
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
      clock.addAndGet(i % 4 == 0 ? 1 : 0); // many notices inside one window
      assertThat(seals.open(CHANNEL, seals.seal(CHANNEL, ("n" + i).getBytes())).refusal()).isNull();
    }
    assertThat(seals.remembered()).isEqualTo(SealedNotices.REMEMBERED);
    assertThat(seals.rememberedBytes())
        .isEqualTo((long) SealedNotices.REMEMBERED * ReplayMemory.BYTES_PER_ENTRY);
  }

  /**
   * More distinct notices than the memory holds, all within the window: the first one, replayed
   * while it is still in the window, is refused however many came after it.
   */
  @Test
  void aReplayInsideTheWindowIsRefusedAfterTheMemoryOverflowed() {
    Buffer first = seals.seal(CHANNEL, NOTICE);
    assertThat(seals.open(CHANNEL, first).refusal()).isNull();
    clock.incrementAndGet(); // the first is the oldest: the one the full memory forgets
    for (int i = 0; i < SealedNotices.REMEMBERED; i++) {
      assertThat(seals.open(CHANNEL, seals.seal(CHANNEL, ("n" + i).getBytes())).refusal()).isNull();
    }
    assertThat(seals.remembered()).isEqualTo(SealedNotices.REMEMBERED);
    clock.addAndGet(CryptoConstants.BUS_SEAL_WINDOW_MILLIS / 2); // still well inside the window
    assertThat(seals.open(CHANNEL, first).refusal()).isEqualTo(Refusal.REPLAY_MEMORY_FULL);
  }

  @Test
  void afterTheFloorRoseAReplayIsRefusedAndFresherNoticesStillOpen() {
    SealedNotices small = remembering(8);
    long t0 = clock.get();
    List<Buffer> sent = new ArrayList<>();
    for (int i = 0; i < 8; i++) { // t0 .. t0+7: full
      sent.add(small.seal(CHANNEL, ("n" + i).getBytes()));
      assertThat(small.open(CHANNEL, sent.get(i)).refusal()).isNull();
      clock.incrementAndGet();
    }
    Buffer ninth = small.seal(CHANNEL, NOTICE); // t0+8: forgets t0's, the floor is t0
    assertThat(small.open(CHANNEL, ninth).refusal()).isNull();
    assertThat(small.remembered()).isEqualTo(8);

    assertThat(small.open(CHANNEL, sent.get(0)).refusal()).isEqualTo(Refusal.REPLAY_MEMORY_FULL);
    for (int i = 1; i < 8; i++) {
      assertThat(small.open(CHANNEL, sent.get(i)).refusal()).isEqualTo(Refusal.REPLAYED);
    }
    assertThat(small.open(CHANNEL, ninth).refusal()).isEqualTo(Refusal.REPLAYED);
    // a genuine notice no newer than the floor cannot be told from a forgotten one: refused
    assertThat(small.open(CHANNEL, sealedAt(small, t0, "late")).refusal())
        .isEqualTo(Refusal.REPLAY_MEMORY_FULL);
    // newer than the floor: opens, though no newer than any remembered (so forgotten at once)
    Buffer justAbove = sealedAt(small, t0 + 1, "late but above the floor");
    assertThat(small.open(CHANNEL, justAbove).refusal()).isNull();
    assertThat(small.open(CHANNEL, justAbove).refusal()).isEqualTo(Refusal.REPLAY_MEMORY_FULL);
    // fresh notices open, and each is refused a second time
    for (int i = 0; i < 100; i++) {
      clock.incrementAndGet();
      Buffer fresh = small.seal(CHANNEL, ("fresh" + i).getBytes());
      assertThat(small.open(CHANNEL, fresh).refusal()).isNull();
      assertThat(small.open(CHANNEL, fresh).refusal()).isNotNull();
    }
    for (Buffer b : sent) {
      assertThat(small.open(CHANNEL, b).refusal()).isNotNull();
    }
  }

  @Test
  void theReplayMemoryStaysWithinItsBoundHoweverManyNoticesOpen() {
    SealedNotices small = remembering(64);
    List<Buffer> sent = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) { // 10 000 >> 64, all within one window
      clock.addAndGet(i % 2);
      Buffer b = small.seal(CHANNEL, ("n" + i).getBytes());
      sent.add(b);
      assertThat(small.open(CHANNEL, b).refusal()).isNull();
      assertThat(small.remembered()).isLessThanOrEqualTo(64);
    }
    for (Buffer b : sent) { // every one of them, replayed: refused
      assertThat(small.open(CHANNEL, b).refusal())
          .isIn(Refusal.REPLAYED, Refusal.REPLAY_MEMORY_FULL);
    }
    assertThat(small.remembered()).isEqualTo(64);
  }

  @Test
  void staleAndFutureNoticesAreStillStaleOnceTheFloorRose() {
    SealedNotices small = remembering(2);
    for (int i = 0; i < 5; i++) {
      clock.incrementAndGet();
      assertThat(small.open(CHANNEL, small.seal(CHANNEL, ("n" + i).getBytes())).refusal()).isNull();
    }
    long now = clock.get();
    long window = CryptoConstants.BUS_SEAL_WINDOW_MILLIS;
    assertThat(small.open(CHANNEL, sealedAt(small, now - window - 1, "old")).refusal())
        .isEqualTo(Refusal.STALE);
    assertThat(small.open(CHANNEL, sealedAt(small, now + window + 1, "ahead")).refusal())
        .isEqualTo(Refusal.STALE);
    assertThat(small.open(CHANNEL, sealedAt(small, now + window, "at the edge")).refusal())
        .isNull();
  }

  @Test
  void aNoticeIsForgottenOnceItsTimeLeftTheWindowAndIsStaleThen() {
    long window = CryptoConstants.BUS_SEAL_WINDOW_MILLIS;
    Buffer now = seals.seal(CHANNEL, NOTICE);
    Buffer ahead = sealedAt(seals, clock.get() + window, "a sender's clock ahead");
    assertThat(seals.open(CHANNEL, now).refusal()).isNull();
    assertThat(seals.open(CHANNEL, ahead).refusal()).isNull();
    assertThat(seals.remembered()).isEqualTo(2);

    clock.addAndGet(window + 1); // now's time left the window; ahead's is still in it
    assertThat(seals.open(CHANNEL, seals.seal(CHANNEL, "later".getBytes())).refusal()).isNull();
    assertThat(seals.remembered()).isEqualTo(2); // ahead's and later's
    assertThat(seals.open(CHANNEL, now).refusal()).isEqualTo(Refusal.STALE);
    assertThat(seals.open(CHANNEL, ahead).refusal()).isEqualTo(Refusal.REPLAYED);

    clock.addAndGet(2 * window); // every time left the window
    assertThat(seals.open(CHANNEL, ahead).refusal()).isEqualTo(Refusal.STALE);
    assertThat(seals.remembered()).isZero();
  }

  @Test
  void aClockThatStepsBackDoesNotReopenTheWindowForForgottenNotices() {
    long t0 = clock.get();
    Buffer first = seals.seal(CHANNEL, NOTICE);
    assertThat(seals.open(CHANNEL, first).refusal()).isNull();
    clock.addAndGet(CryptoConstants.BUS_SEAL_WINDOW_MILLIS + 1);
    assertThat(seals.open(CHANNEL, seals.seal(CHANNEL, "later".getBytes())).refusal()).isNull();
    assertThat(seals.remembered()).isEqualTo(1); // first's MAC is forgotten
    clock.set(t0); // the clock steps back: first is within |now - at| again, yet refused
    assertThat(seals.open(CHANNEL, first).refusal()).isEqualTo(Refusal.STALE);
  }

  @Test
  void theReplayMemoryNeedsRoomForOneNotice() {
    assertThatThrownBy(() -> remembering(0)).isInstanceOf(IllegalArgumentException.class);
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
