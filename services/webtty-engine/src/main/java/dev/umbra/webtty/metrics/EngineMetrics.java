package dev.umbra.webtty.metrics;

import dev.umbra.kit.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Meters of the engine; tag values are envelope metadata only (frame type, reason, side), never a
 * payload, key or token.
 */
public final class EngineMetrics {
  private static final String SERVICE = "webtty-engine";
  public static final String TAG_REASON = "reason";
  public static final String TAG_SIDE = "side";
  public static final String TAG_TYPE = "type";

  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  public final AtomicLong liveSessions = new AtomicLong();
  public final AtomicLong connections = new AtomicLong();
  public final AtomicLong recordingQueue = new AtomicLong();

  public EngineMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder(Metrics.name(SERVICE, "sessions_live"), liveSessions, AtomicLong::get)
        .register(registry);
    Gauge.builder(Metrics.name(SERVICE, "connections"), connections, AtomicLong::get)
        .register(registry);
    Gauge.builder(Metrics.name(SERVICE, "recording_queue_events"), recordingQueue, AtomicLong::get)
        .register(registry);
  }

  /** A frame refused (and, for envelope problems, its connection closed). */
  public void rejected(String side, String reason) {
    counter("frames_rejected", TAG_SIDE, side, TAG_REASON, reason).increment();
  }

  public void forwarded(String type) {
    counter("frames_forwarded", TAG_TYPE, type).increment();
  }

  public void dropped(String reason) {
    counter("frames_dropped", TAG_REASON, reason).increment();
  }

  /** A sealed notice from the bus refused before it acted (SealedNotices' reasons). */
  public void noticeRefused(String type, String reason) {
    counter("bus_notices_refused", TAG_TYPE, type, TAG_REASON, reason).increment();
  }

  /** A bus publish that failed or reached nobody, tried again (BusOutbox). */
  public void publishRetried() {
    counter("bus_publish_retries").increment();
  }

  public void sessionsOpened() {
    counter("sessions_opened").increment();
  }

  public void sessionsEnded(String reason) {
    counter("sessions_ended", TAG_REASON, reason).increment();
  }

  public void recorded(long events) {
    counter("recorded_events").increment(events);
  }

  public void recordingFailures() {
    counter("recording_failures").increment();
  }

  public void authFailures(String side) {
    counter("auth_failures", TAG_SIDE, side).increment();
  }

  public double count(String what, String... tags) {
    Counter c = registry.find(Metrics.name(SERVICE, what)).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private Counter counter(String what, String... tags) {
    String key = what + String.join("|", tags);
    return counters.computeIfAbsent(
        key, k -> Counter.builder(Metrics.name(SERVICE, what)).tags(tags).register(registry));
  }
}
