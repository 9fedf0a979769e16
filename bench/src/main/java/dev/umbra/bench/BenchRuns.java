package dev.umbra.bench;

import java.util.Locale;

/** What the load harnesses share: how a run ends, how a latency distribution is shown. */
public final class BenchRuns {
  private BenchRuns() {}

  /** A benchmark body that may fail. */
  public interface Body {
    void run() throws Exception;
  }

  /**
   * Runs {@code body} and exits 0, or prints the failure and exits 1 (event-loop threads would keep
   * a failed run alive).
   */
  public static void runAndExit(Body body) {
    try {
      body.run();
      System.exit(0);
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  /** " pct: p50.0=… p99.9=…" in microseconds, from nanosecond samples sorted ascending. */
  public static String percentileLadder(long[] sortedNanos) {
    StringBuilder sb = new StringBuilder("    pct:");
    int n = sortedNanos.length;
    for (double q : new double[] {0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}) {
      sb.append(
          String.format(
              Locale.ROOT, " p%s=%d", q * 100, sortedNanos[(int) Math.floor(q * (n - 1))] / 1000));
    }
    return sb.toString();
  }

  /** CPU time of this JVM so far (every thread, user and system), in nanoseconds. */
  public static long jvmCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }
}
