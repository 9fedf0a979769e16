package dev.umbra.bench.relay;

import java.util.Arrays;

/** Percentiles of recorded latencies (nanoseconds). */
record Stats(long count, double p50Micros, double p99Micros) {
  static Stats of(long[] samples, int n) {
    long[] s = Arrays.copyOf(samples, n);
    Arrays.sort(s);
    if (System.getProperty("umbra.bench.debugPct") != null && n > 0) {
      System.out.println(dev.umbra.bench.BenchRuns.percentileLadder(s));
    }
    if (n == 0) {
      return new Stats(0, Double.NaN, Double.NaN);
    }
    return new Stats(
        n,
        s[(int) Math.floor(0.50 * (n - 1))] / 1000.0,
        s[(int) Math.floor(0.99 * (n - 1))] / 1000.0);
  }

  /** Per percentile, the median over rounds. */
  static Stats median(java.util.List<Stats> rounds) {
    double[] p50 = rounds.stream().mapToDouble(Stats::p50Micros).sorted().toArray();
    double[] p99 = rounds.stream().mapToDouble(Stats::p99Micros).sorted().toArray();
    return new Stats(
        rounds.stream().mapToLong(Stats::count).sum(), p50[p50.length / 2], p99[p99.length / 2]);
  }
}
