package dev.umbra.controlplane.messaging;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * The copies an instance pushed lately, by recipient and message id, so that a second notice of the
 * same copy is not pushed again (docs/messaging.md, "Delivery guarantees"). The sending instance
 * seals a notice again at each retry ({@link NoticeOutbox}); a publish that failed on a timeout may
 * have reached Redis after all, and its retry then arrives as a second notice, with another MAC (so
 * not a replay to {@code SealedNotices}). Remembered for {@link #WINDOW} and at most {@link #MAX}
 * ids for the instance, the oldest forgotten first: past either, a duplicate is pushed, and clients
 * drop ids they showed.
 */
final class RecentPushes {
  /** How long a pushed copy is remembered: past the outbox's retries ({@code RETRY_FOR}). */
  static final Duration WINDOW = Duration.ofSeconds(60);

  /** Most copies remembered on an instance (about 150 bytes each: ~10 MiB). */
  static final int MAX = 65_536;

  private record Key(UUID recipient, UUID messageId) {}

  private final Map<Key, Long> pushed = new LinkedHashMap<>();
  private final LongSupplier nanos;
  private final int max;

  RecentPushes() {
    this(System::nanoTime, MAX);
  }

  /** With {@code nanos} as the monotonic clock and at most {@code max} ids (tests). */
  RecentPushes(LongSupplier nanos, int max) {
    this.nanos = nanos;
    this.max = max;
  }

  /**
   * Whether {@code messageId} for {@code recipient} is not among the copies pushed lately; it is
   * remembered from now on.
   */
  synchronized boolean first(UUID recipient, UUID messageId) {
    long now = nanos.getAsLong();
    for (Iterator<Long> it = pushed.values().iterator(); it.hasNext(); ) {
      if (now - it.next() <= WINDOW.toNanos()) {
        break; // insertion order is arrival order
      }
      it.remove();
    }
    if (pushed.putIfAbsent(new Key(recipient, messageId), now) != null) {
      return false;
    }
    if (pushed.size() > max) {
      Iterator<Key> eldest = pushed.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
    return true;
  }

  /** How many copies are remembered (tests). */
  synchronized int size() {
    return pushed.size();
  }
}
