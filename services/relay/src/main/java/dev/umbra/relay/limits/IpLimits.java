package dev.umbra.relay.limits;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Per-IP token buckets for new connections and for messages, bounded in size: full (idle) buckets
 * are swept, and when the table is full a new IP shares one overflow bucket, so memory stays
 * bounded under an address-spraying attack. One event loop only.
 */
public final class IpLimits {
  private static final int MAX_ENTRIES = 100_000;
  private static final String OVERFLOW = "overflow";

  private final double rate;
  private final double burst;
  private final Map<String, TokenBucket> buckets = new HashMap<>();

  public IpLimits(double ratePerSecond, double burst) {
    this.rate = ratePerSecond;
    this.burst = burst;
  }

  private TokenBucket bucket(String ip, long now) {
    TokenBucket b = buckets.get(ip);
    if (b == null) {
      String key = buckets.size() >= MAX_ENTRIES ? OVERFLOW : ip;
      b = buckets.computeIfAbsent(key, k -> new TokenBucket(rate, burst, now));
    }
    return b;
  }

  public boolean tryTake(String ip, long now) {
    return bucket(ip, now).tryTake(now);
  }

  public long takeOrDebt(String ip, long now) {
    return bucket(ip, now).takeOrDebt(now);
  }

  /** Forgets buckets that are full again; call periodically. */
  public void sweep(long now) {
    for (Iterator<TokenBucket> it = buckets.values().iterator(); it.hasNext(); ) {
      if (it.next().idle(now)) {
        it.remove();
      }
    }
  }

  public int size() {
    return buckets.size();
  }
}
