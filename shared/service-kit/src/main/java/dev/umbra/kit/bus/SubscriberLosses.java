package dev.umbra.kit.bus;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * The bus's meters of its subscriber connection: {@code umbra_bus_subscriber_lost_total{reason}},
 * each time it is dropped and its subscriptions made again on a new one (what interrupts live
 * sockets), and {@code umbra_bus_subscriber_reconnect_failed_total}, each new connection that could
 * not be opened and subscribed (retried with backoff).
 */
final class SubscriberLosses {
  /** Why the subscriber connection was dropped. */
  enum Reason {
    /** Redis or the network closed it. */
    CLOSED,
    /** Nothing came back within the timeout after a probe: a frozen or cut-off Redis. */
    SILENT,
    /** A Cluster shard gave up a listened channel (its slot moved). */
    SLOT_MOVED;

    String tag() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Map<Reason, Counter> lost = new EnumMap<>(Reason.class);
  private final Counter reconnectFailed;

  SubscriberLosses(MeterRegistry registry) {
    for (Reason r : Reason.values()) {
      lost.put(
          r,
          Counter.builder("umbra.bus.subscriber.lost")
              .description("Redis subscriber connections dropped and replaced, by reason")
              .tag("reason", r.tag())
              .register(registry));
    }
    reconnectFailed =
        Counter.builder("umbra.bus.subscriber.reconnect.failed")
            .description("Redis subscriber connections that could not be opened and subscribed")
            .register(registry);
  }

  void lost(Reason why) {
    lost.get(why).increment();
  }

  void reconnectFailed() {
    reconnectFailed.increment();
  }
}
