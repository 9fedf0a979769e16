package dev.umbra.relay.limits;

/**
 * A token bucket: {@code rate} tokens a second up to {@code burst}. Not thread-safe (used on one
 * event loop). Time is passed in, in nanoseconds, so it is testable.
 */
public final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long last;

  public TokenBucket(double ratePerSecond, double burst, long nowNanos) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.tokens = burst;
    this.last = nowNanos;
  }

  private void refill(long now) {
    if (now > last) {
      tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
      last = now;
    }
  }

  /** Takes one token when available. */
  public boolean tryTake(long now) {
    refill(now);
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /**
   * Takes one token even when none is left (the message was already read) and returns how many
   * nanoseconds the caller should pause so the debt is repaid; 0 when there was a token.
   */
  public long takeOrDebt(long now) {
    refill(now);
    tokens -= 1;
    return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / ratePerNano);
  }

  /** True when the bucket is full again (the entry can be forgotten). */
  public boolean idle(long now) {
    refill(now);
    return tokens >= burst;
  }
}
