package dev.umbra.daemon.archfixture;

import java.time.Instant;

/** Breaks the wall-clock rule on purpose: ModuleBoundariesTest shows the rule reports it. */
public final class DaemonReadingTheWallClock {
  public long startedMillis() {
    return System.currentTimeMillis();
  }

  public Instant startedAt() {
    return Instant.now();
  }
}
