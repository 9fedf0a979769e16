package dev.umbra.kit.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventuallyTest {

  @Test
  void awaitReturnsOnceTheConditionHoldsAndFailsNamingItWhenItNeverDoes() {
    AtomicInteger asked = new AtomicInteger();
    Eventually.await("the third ask", Duration.ofSeconds(10), () -> asked.incrementAndGet() >= 3);
    assertThat(asked).hasValue(3);
    assertThatThrownBy(() -> Eventually.await("never", Duration.ofMillis(50), () -> false))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("not within 50 ms: never");
  }

  @Test
  void holdsThroughoutWaitsTheWholeWindowWhenTheConditionKeepsHolding() {
    AtomicInteger asked = new AtomicInteger();
    long t0 = System.nanoTime();
    Eventually.holdsThroughout(
        "still true", Duration.ofMillis(100), () -> asked.incrementAndGet() > 0);
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(100));
    assertThat(asked.get()).as("asked at every poll, not once at the end").isGreaterThan(1);
  }

  @Test
  void holdsThroughoutFailsAtTheFirstPollWhereTheConditionBreaksNotAtTheEndOfTheWindow() {
    AtomicInteger asked = new AtomicInteger();
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () ->
                Eventually.holdsThroughout(
                    "fewer than three asks",
                    Duration.ofSeconds(30),
                    () -> asked.incrementAndGet() < 3))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("no longer holds within 30000 ms: fewer than three asks");
    assertThat(asked).hasValue(3);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
  }
}
