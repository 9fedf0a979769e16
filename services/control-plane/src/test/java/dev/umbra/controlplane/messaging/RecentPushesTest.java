package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The copies an instance pushed lately: a second notice of one is not pushed again within the
 * window, per recipient, and what is remembered stays bounded (docs/messaging.md, "Delivery
 * guarantees").
 */
class RecentPushesTest {
  final AtomicLong nanos = new AtomicLong(1_000);

  @Test
  void aCopyIsPushedOnceWithinTheWindowPerRecipient() {
    RecentPushes recent = new RecentPushes(nanos::get, 100);
    UUID me = UUID.randomUUID();
    UUID copy = UUID.randomUUID();
    assertThat(recent.first(me, copy)).isTrue();
    assertThat(recent.first(me, copy)).as("the retry's second notice").isFalse();
    assertThat(recent.first(UUID.randomUUID(), copy)).as("another recipient").isTrue();
    nanos.addAndGet(RecentPushes.WINDOW.toNanos() + 1);
    assertThat(recent.first(me, copy)).as("past the window: forgotten").isTrue();
    assertThat(recent.size()).as("the expired ones forgotten").isEqualTo(1);
  }

  @Test
  void atMostTheBoundIsRememberedTheOldestForgottenFirst() {
    RecentPushes recent = new RecentPushes(nanos::get, 3);
    UUID me = UUID.randomUUID();
    UUID oldest = UUID.randomUUID();
    recent.first(me, oldest);
    for (int i = 0; i < 3; i++) {
      recent.first(me, UUID.randomUUID());
    }
    assertThat(recent.size()).isEqualTo(3);
    assertThat(recent.first(me, oldest)).isTrue();
  }
}
