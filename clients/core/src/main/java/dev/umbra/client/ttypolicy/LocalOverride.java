package dev.umbra.client.ttypolicy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The machine operator's local override of the WebTTY server policy, from the daemon's environment
 * (docs/configuration.md): {@code UMBRA_TTY_RECORDING} ({@code true|false}), {@code
 * UMBRA_TTY_RECORD_STDIN} ({@code true|false}), {@code UMBRA_TTY_JOIN} ({@code
 * nobody|admins|members}). Each variable that is set can only make the workspace's policy stricter
 * ({@link TtyPolicy#tightenedBy}); an unset variable changes nothing. A value that is not one of
 * these is taken as the strictest one (off, nobody) and reported, never ignored.
 */
public record LocalOverride(
    Optional<Boolean> recording,
    Optional<TtyPolicy.Join> join,
    Optional<Boolean> recordStdin,
    List<String> problems) {
  public static final String RECORDING = "UMBRA_TTY_RECORDING";
  public static final String RECORD_STDIN = "UMBRA_TTY_RECORD_STDIN";
  public static final String JOIN = "UMBRA_TTY_JOIN";

  public LocalOverride {
    problems = List.copyOf(problems);
  }

  public static LocalOverride none() {
    return new LocalOverride(Optional.empty(), Optional.empty(), Optional.empty(), List.of());
  }

  public static LocalOverride fromEnv(Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    return new LocalOverride(
        bool(env, RECORDING, problems),
        join(env, problems),
        bool(env, RECORD_STDIN, problems),
        problems);
  }

  private static Optional<Boolean> bool(
      Map<String, String> env, String name, List<String> problems) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      return Optional.empty();
    }
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true", "on", "1" -> Optional.of(true);
      case "false", "off", "0" -> Optional.of(false);
      default -> {
        problems.add(name + " is neither true nor false: taken as false (the stricter value)");
        yield Optional.of(false);
      }
    };
  }

  private static Optional<TtyPolicy.Join> join(Map<String, String> env, List<String> problems) {
    String v = env.get(JOIN);
    if (v == null || v.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(TtyPolicy.Join.of(v.trim().toLowerCase(Locale.ROOT)));
    } catch (RuntimeException e) {
      problems.add(
          JOIN + " is not nobody, admins or members: taken as nobody (the strictest value)");
      return Optional.of(TtyPolicy.Join.NOBODY);
    }
  }
}
