package dev.umbra.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * One line naming the machine a figure was measured on: the CPU model and what of the guest kernel
 * is known to move tail latency on the 2-vCPU VMs we measure on (docs/benchmarks.md, "kdamond").
 *
 * <p>Why kdamond: a guest running DAMON's physical-address monitoring (proactive reclaim set up by
 * the platform) runs the monitor's kernel thread in 3–4 ms stretches, several times a second, that
 * nothing preempts; a thread woken onto that vCPU waits it out while the other vCPU idles. A JVM
 * path hands each frame across more threads than nginx's one worker, so its p99 rose 5–10×. A
 * figure that does not say whether this was on cannot be compared with another.
 */
public final class BenchMachine {
  private BenchMachine() {}

  /** Prints the line, for shell benches (bench/*.sh) to record beside their figures. */
  public static void main(String[] args) {
    System.out.println(describe());
  }

  /** "machine: cpu=…, vcpus=…, kernel=…, clocksource=…, cpuidle=…, kdamond=…". */
  public static String describe() {
    return describe(Path.of("/"));
  }

  static String describe(Path root) {
    return String.format(
        Locale.ROOT,
        "machine: cpu=%s, vcpus=%d, kernel=%s, clocksource=%s, cpuidle=%s, kdamond=%s",
        cpuModel(root),
        Runtime.getRuntime().availableProcessors(),
        firstLine(root.resolve("proc/sys/kernel/osrelease")),
        firstLine(root.resolve("sys/devices/system/clocksource/clocksource0/current_clocksource")),
        firstLine(root.resolve("sys/devices/system/cpu/cpuidle/current_driver")),
        kdamonds(root));
  }

  /** The first {@code model name} of /proc/cpuinfo, or "unknown". */
  static String cpuModel(Path root) {
    try (Stream<String> lines = Files.lines(root.resolve("proc/cpuinfo"))) {
      return lines
          .filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown");
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /**
   * The states of DAMON's kernel monitors ("on", "off", several as "on+off"), "none" when the
   * kernel has DAMON but no monitor, "unknown" when it cannot be read.
   */
  static String kdamonds(Path root) {
    Path dir = root.resolve("sys/kernel/mm/damon/admin/kdamonds");
    if (!Files.isDirectory(dir)) {
      return "unknown";
    }
    List<String> states = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      entries
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .sorted()
          .forEach(p -> states.add(firstLine(p.resolve("state"))));
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
    return states.isEmpty() ? "none" : String.join("+", states);
  }

  /**
   * The machine's CPU time so far from /proc/stat's {@code cpu} line, in clock ticks: {@code
   * [steal, total]} (total counts every field but guest time, which user time already holds), or
   * null when it cannot be read.
   */
  static long[] cpuTicks(Path root) {
    String line = firstLine(root.resolve("proc/stat"));
    String[] f = line.split("\\s+");
    if (f.length < 9 || !f[0].equals("cpu")) {
      return null;
    }
    try {
      long total = 0;
      for (int i = 1; i <= 8; i++) { // user .. steal
        total += Long.parseLong(f[i]);
      }
      return new long[] {Long.parseLong(f[8]), total};
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The CPU ticks of the machine now ({@link #cpuTicks(Path)} of "/"). */
  public static long[] cpuTicks() {
    return cpuTicks(Path.of("/"));
  }

  /**
   * "steal=…%": the share of the machine's CPU time the hypervisor gave to others between two
   * {@link #cpuTicks()} readings — a run with steal was not on a quiet machine, whatever its load
   * average said.
   */
  public static String steal(long[] before, long[] after) {
    if (before == null || after == null || after[1] <= before[1]) {
      return "steal=unknown";
    }
    return String.format(
        Locale.ROOT, "steal=%.1f%%", 100.0 * (after[0] - before[0]) / (after[1] - before[1]));
  }

  private static String firstLine(Path file) {
    try (Stream<String> lines = Files.lines(file)) {
      return lines.findFirst().map(String::trim).orElse("unknown");
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
