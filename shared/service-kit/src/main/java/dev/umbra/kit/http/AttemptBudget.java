package dev.umbra.kit.http;

import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An in-memory token bucket per client address for failed attempts at one endpoint of one service
 * instance: {@code perMinute} failures, refilled evenly over a minute. Only failures take a token;
 * a client with none left is refused before its attempt is checked. Bounded: at most {@link
 * #MAX_ADDRESSES} addresses are remembered, the least recently failed forgotten first. Thread-safe
 * (one lock; the work under it is a map lookup).
 */
public final class AttemptBudget {
  public static final int MAX_ADDRESSES = 10_000;

  private record Bucket(double tokens, long atMillis) {}

  private final int perMinute;
  private final Clock clock;
  private final Map<String, Bucket> buckets = new LinkedHashMap<>(16, 0.75f, true);

  public AttemptBudget(int perMinute, Clock clock) {
    if (perMinute <= 0) {
      throw new IllegalArgumentException("perMinute must be positive");
    }
    this.perMinute = perMinute;
    this.clock = clock;
  }

  /** Whether {@code address} may make an attempt now (it has a token left). */
  public synchronized boolean allows(String address) {
    Bucket b = buckets.get(address);
    return b == null || refilled(b, clock.millis()) >= 1.0;
  }

  /** Takes a token for a failed attempt. */
  public synchronized void failed(String address) {
    long now = clock.millis();
    Bucket b = buckets.get(address);
    double tokens = b == null ? perMinute : refilled(b, now);
    buckets.put(address, new Bucket(Math.max(0, tokens - 1), now));
    if (buckets.size() > MAX_ADDRESSES) {
      Iterator<String> eldest = buckets.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
  }

  /** Seconds until {@code address} has a token again (for Retry-After); 0 when it has one. */
  public synchronized long retryAfterSeconds(String address) {
    Bucket b = buckets.get(address);
    if (b == null) {
      return 0;
    }
    double missing = 1.0 - refilled(b, clock.millis());
    return missing <= 0
        ? 0
        : (long) Math.ceil(missing * Duration.ofMinutes(1).toSeconds() / perMinute);
  }

  private double refilled(Bucket b, long now) {
    double perMilli = perMinute / 60_000.0;
    return Math.min(perMinute, b.tokens() + Math.max(0, now - b.atMillis()) * perMilli);
  }
}
