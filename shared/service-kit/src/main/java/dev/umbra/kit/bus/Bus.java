package dev.umbra.kit.bus;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.List;

/**
 * The message bus between service instances: pub/sub for live fan-out (may lose messages when
 * nobody listens), durable streams with consumer groups for what must not be lost, and expiring
 * keys for live presence.
 *
 * <p>Names must begin with {@code umbra.}. Methods never throw: failures come back as failed
 * futures. Two implementations: {@link RedisBus} (production) and {@link InProcessBus} (single-JVM
 * dev mode only).
 */
public interface Bus {

  String NAME_PREFIX = "umbra.";

  /**
   * Publishes to every current subscriber of {@code channel}. Returns how many bus clients received
   * it (Redis counts connections, not handlers): 0 means nobody listens. Messages published from
   * one context reach each subscriber in the order they were published, without waiting for one
   * publish to complete before the next.
   */
  Future<Long> publish(String channel, Buffer message);

  /** Subscribes to one channel; the handler runs on the caller's context. */
  Future<Subscription> subscribe(String channel, Handler<BusMessage> handler);

  /**
   * Runs {@code handler} (on the caller's context) each time this bus's subscriptions are
   * interrupted: what is published to their channels from then until they are restored (the bus
   * resubscribes by itself) is missed, so a subscriber that must not miss anything catches up from
   * where it keeps its state. A subscription made after the interruption (its future completed) is
   * live. A bus that never loses its subscriptions never calls it.
   */
  default void onSubscriptionsLost(Handler<Void> handler) {}

  /** Subscribes to every channel matching a glob such as {@code umbra.audit.*}. */
  Future<Subscription> subscribePattern(String pattern, Handler<BusMessage> handler);

  /**
   * Appends to a durable stream, trimming it to about {@code maxLength} entries; returns the id.
   */
  Future<String> append(String stream, Buffer body, long maxLength);

  /**
   * Appends {@code bodies} to a durable stream in their order, one entry each, as {@link #append}
   * does (a bus may send them together: one batch on the wire); returns their ids in the same
   * order. Fails if any append failed (then some of the entries may have been appended).
   */
  default Future<List<String>> appendAll(String stream, List<Buffer> bodies, long maxLength) {
    List<Future<String>> all = new java.util.ArrayList<>();
    for (Buffer b : bodies) {
      all.add(append(stream, b, maxLength));
    }
    return Future.all(all).map(x -> all.stream().map(Future::result).toList());
  }

  /**
   * Reads up to {@code count} entries of a stream whose ids come after {@code afterId} (an entry
   * id, or {@code <ms>-0} for "from that time on"), oldest first, without any consumer group; an
   * absent stream has none.
   */
  Future<List<StreamEntry>> range(String stream, String afterId, int count);

  /** Creates the consumer group (reading new entries only) if it does not exist. */
  Future<Void> ensureGroup(String stream, String group);

  /**
   * Reads up to {@code count} entries never delivered to this group, waiting up to {@code block}
   * when there are none. Entries stay pending until {@link #ack}.
   */
  Future<List<StreamEntry>> readGroup(
      String stream, String group, String consumer, int count, Duration block);

  /** Acknowledges entries so they are never delivered again. */
  Future<Long> ack(String stream, String group, List<String> ids);

  /**
   * Claims entries delivered to any consumer of the group but not acknowledged within {@code
   * minIdle}, so a crashed consumer's work is re-delivered to {@code consumer}.
   */
  Future<List<StreamEntry>> claimPending(
      String stream, String group, String consumer, Duration minIdle, int count);

  /**
   * Sets {@code key} to {@code value}, expiring after {@code ttl}: live presence, which vanishes
   * with a writer that stops refreshing it. Keys follow the rules of channel names.
   */
  Future<Void> putExpiring(String key, String value, Duration ttl);

  /** The value of {@code key}; null when it is absent or expired. */
  Future<String> get(String key);

  /**
   * Deletes {@code key} only while it still holds {@code value} (a writer removing its own presence
   * never removes a newer writer's); true when it deleted it.
   */
  Future<Boolean> deleteIfHolds(String key, String value);

  /** Checks the bus is reachable (used by /healthz). */
  Future<Void> ping();

  Future<Void> close();

  /** The kind shown in health output: {@code redis} or {@code in-process}. */
  String kind();

  static void checkName(String name) {
    if (name == null || !name.startsWith(NAME_PREFIX) || name.length() > 200) {
      throw new IllegalArgumentException(
          "bus names must begin with 'umbra.' and be short: " + name);
    }
  }
}
