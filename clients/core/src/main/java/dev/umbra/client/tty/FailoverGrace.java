package dev.umbra.client.tty;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How long a side of a WebTTY session waits through an engine failover (docs/webtty.md "Engine
 * failover"), from the environment: the daemon keeps its shells ({@link #DAEMON}), a client keeps
 * reconnecting ({@link #CLIENT}). Whole seconds in [{@link #MIN_SECONDS}, {@link #MAX_SECONDS}],
 * default {@link #DEFAULT}; anything else keeps the default and says why in {@code problem} (the
 * caller warns), so a typo never stops a daemon's other features.
 */
public record FailoverGrace(Duration value, Optional<String> problem) {
  public static final String DAEMON = "UMBRA_TTY_RESUME_GRACE_SECONDS";
  public static final String CLIENT = "UMBRA_TTY_FAILOVER_SECONDS";
  public static final Duration DEFAULT = Duration.ofSeconds(30);
  public static final int MIN_SECONDS = 1;

  /** Longer holds a shell nobody can reach; the engine's server grace has the same bound. */
  public static final int MAX_SECONDS = 600;

  /** The grace {@code name} sets in {@code env}. */
  public static FailoverGrace fromEnv(Map<String, String> env, String name) {
    String raw = env.get(name);
    if (raw == null || raw.isBlank()) {
      return new FailoverGrace(DEFAULT, Optional.empty());
    }
    try {
      long s = Long.parseLong(raw.trim());
      if (s >= MIN_SECONDS && s <= MAX_SECONDS) {
        return new FailoverGrace(Duration.ofSeconds(s), Optional.empty());
      }
    } catch (NumberFormatException e) {
      // reported below, without echoing more than the variable's name and the bounds
    }
    return new FailoverGrace(
        DEFAULT,
        Optional.of(
            name
                + " must be whole seconds between "
                + MIN_SECONDS
                + " and "
                + MAX_SECONDS
                + "; using "
                + DEFAULT.toSeconds()));
  }
}
