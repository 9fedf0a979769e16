package dev.umbra.bench.relay;

import java.util.Arrays;

/** Percentiles of recorded latencies (nanoseconds). */
record Stats(long count, double p50Micros, double p99Micros) {
  static Stats of(long[] samples, int n) {
    long[] s = Arrays.copyOf(samples, n);
    Arrays.sort(s);
    if (n == 0) {
      return new Stats(0, Double.NaN, Double.NaN);
    }
    return new Stats(n, s[(int) Math.floor(0.50 * (n - 1))] / 1000.0, s[(int) Math.floor(0.99 * (n - 1))] / 1000.0);
  }
}
