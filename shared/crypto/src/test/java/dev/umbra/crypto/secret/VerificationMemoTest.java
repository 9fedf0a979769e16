package dev.umbra.crypto.secret;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.proto.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class VerificationMemoTest {
  private final Argon2idHasher hasher = Argon2idHasher.defaults();
  private final AtomicInteger argon2Runs = new AtomicInteger();
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T12:00:00Z"));
  private final VerificationMemo memo =
      new VerificationMemo(
          (encoded, secret) -> {
            argon2Runs.incrementAndGet();
            return hasher.verify(encoded, secret);
          },
          clock,
          Duration.ofMinutes(5),
          2);

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void aSecretThatMatchedIsNotHashedAgainWithinTheTtl() {
    String stored = hasher.hash(bytes("umb_right"));
    assertThat(memo.verify(stored, bytes("umb_right"))).isTrue();
    assertThat(memo.verify(stored, bytes("umb_right"))).isTrue();
    assertThat(memo.verify(stored, bytes("umb_right"))).isTrue();
    assertThat(argon2Runs).hasValue(1);
  }

  @Test
  void aWrongSecretIsHashedEveryTimeAndNeverRemembered() {
    String stored = hasher.hash(bytes("umb_right"));
    assertThat(memo.verify(stored, bytes("umb_wrong"))).isFalse();
    assertThat(memo.verify(stored, bytes("umb_wrong"))).isFalse();
    assertThat(argon2Runs).hasValue(2);
    assertThat(memo.size()).isZero();
  }

  @Test
  void aRememberedSecretDoesNotOpenAnotherStoredHash() {
    String first = hasher.hash(bytes("umb_right"));
    String rotated = hasher.hash(bytes("umb_other"));
    assertThat(memo.verify(first, bytes("umb_right"))).isTrue();
    // the row's hash changed (a rotated token): the remembered success is for the old hash only
    assertThat(memo.verify(rotated, bytes("umb_right"))).isFalse();
    assertThat(argon2Runs).hasValue(2);
  }

  @Test
  void aSuccessIsCheckedAgainAfterTheTtl() {
    String stored = hasher.hash(bytes("umb_right"));
    assertThat(memo.verify(stored, bytes("umb_right"))).isTrue();
    clock.advance(Duration.ofMinutes(5));
    assertThat(memo.verify(stored, bytes("umb_right"))).isTrue();
    assertThat(argon2Runs).hasValue(2);
  }

  @Test
  void keepsAtMostItsCapacityDroppingTheLeastRecentlyUsed() {
    String a = hasher.hash(bytes("umb_a"));
    String b = hasher.hash(bytes("umb_b"));
    String c = hasher.hash(bytes("umb_c"));
    memo.verify(a, bytes("umb_a"));
    memo.verify(b, bytes("umb_b"));
    memo.verify(a, bytes("umb_a")); // a used last: b is the eldest
    memo.verify(c, bytes("umb_c"));
    assertThat(memo.size()).isEqualTo(2);
    argon2Runs.set(0);
    memo.verify(a, bytes("umb_a"));
    assertThat(argon2Runs).hasValue(0);
    memo.verify(b, bytes("umb_b"));
    assertThat(argon2Runs).hasValue(1);
  }

  @Test
  void eachMemoHasItsOwnKeySoNoEntryMeansAnythingElsewhere() {
    String stored = hasher.hash(bytes("umb_right"));
    memo.verify(stored, bytes("umb_right"));
    AtomicInteger otherRuns = new AtomicInteger();
    VerificationMemo other =
        new VerificationMemo(
            (e, s) -> {
              otherRuns.incrementAndGet();
              return hasher.verify(e, s);
            },
            clock,
            Duration.ofMinutes(5),
            2);
    assertThat(other.verify(stored, bytes("umb_right"))).isTrue();
    assertThat(otherRuns).hasValue(1);
  }
}
