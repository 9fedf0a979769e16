package dev.umbra.kit.bus;

import dev.umbra.kit.config.Env;
import java.time.Duration;

/**
 * How the bus notices a Redis that stopped answering without closing its connections (a network
 * partition, a frozen or powered-off host: no FIN, no RST, so no bytes arrive either way): the
 * subscriber connection is probed every {@code probeEvery} ({@link SubscriberProbe}) and counts as
 * lost when nothing came back within {@code lostAfter}; any command fails after {@code lostAfter}
 * without an answer.
 */
public record RedisLiveness(Duration probeEvery, Duration lostAfter) {
  public static final String PROBE_ENV = "UMBRA_REDIS_PROBE_MS";
  public static final String TIMEOUT_ENV = "UMBRA_REDIS_TIMEOUT_MS";
  public static final int DEFAULT_PROBE_MS = 5_000;
  public static final int DEFAULT_TIMEOUT_MS = 10_000;
  public static final RedisLiveness DEFAULT =
      new RedisLiveness(Duration.ofMillis(DEFAULT_PROBE_MS), Duration.ofMillis(DEFAULT_TIMEOUT_MS));

  public RedisLiveness {
    if (probeEvery.isNegative() || probeEvery.isZero() || lostAfter.compareTo(probeEvery) < 0) {
      throw new IllegalArgumentException("probe interval must be positive and at most the timeout");
    }
  }

  /** From {@value #PROBE_ENV} and {@value #TIMEOUT_ENV}; a bad value stops the service, named. */
  public static RedisLiveness load(Env env) {
    int probe = env.boundedInt(PROBE_ENV, DEFAULT_PROBE_MS, 100, 600_000);
    int timeout = env.boundedInt(TIMEOUT_ENV, DEFAULT_TIMEOUT_MS, probe, 600_000);
    return new RedisLiveness(Duration.ofMillis(probe), Duration.ofMillis(timeout));
  }
}
