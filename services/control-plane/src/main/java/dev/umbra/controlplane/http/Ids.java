package dev.umbra.controlplane.http;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/** Time-ordered UUIDs (version 7, RFC 9562), so lists page by id in creation order. */
public final class Ids {
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public Ids(Clock clock) {
    this.clock = clock;
  }

  public UUID next() {
    long ms = clock.millis();
    long hi = (ms << 16) | 0x7000L | (random.nextInt() & 0x0fffL);
    long lo = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    return new UUID(hi, lo);
  }
}
