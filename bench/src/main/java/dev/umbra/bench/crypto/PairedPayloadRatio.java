package dev.umbra.bench.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * A load-robust cross-check of the JMH payload ratio: runs short batches of umbra seal+open and raw
 * JCE seal+open alternately in one thread and takes the median of the per-pair time ratios, so both
 * sides see the same machine load. Used by {@link CryptoBenchRunner} after JMH.
 */
final class PairedPayloadRatio {
  private static final int PAIRS = 101;

  private PairedPayloadRatio() {}

  /** Median of umbra/raw batch-time ratios for payloads of {@code size} bytes. */
  static double measure(int size) throws GeneralSecurityException {
    WebTtyPayloadBench bench = new WebTtyPayloadBench();
    bench.size = size;
    bench.setUp();
    int batch = Math.max(20, 1_000_000 / (size + 200));
    int sink = 0;
    for (int i = 0; i < 20 * batch; i++) { // warm-up, both paths
      sink += bench.umbraSealOpen().length + bench.rawJceSealOpen().length;
    }
    double[] ratios = new double[PAIRS];
    for (int p = 0; p < PAIRS; p++) {
      boolean umbraFirst = p % 2 == 0; // alternate the order too
      long umbra = 0;
      long raw = 0;
      for (int half = 0; half < 2; half++) {
        boolean doUmbra = (half == 0) == umbraFirst;
        long start = System.nanoTime();
        for (int i = 0; i < batch; i++) {
          sink += doUmbra ? bench.umbraSealOpen().length : bench.rawJceSealOpen().length;
        }
        long elapsed = System.nanoTime() - start;
        if (doUmbra) {
          umbra = elapsed;
        } else {
          raw = elapsed;
        }
      }
      ratios[p] = (double) umbra / raw;
    }
    if (sink == 42) {
      System.out.print(""); // keeps the results alive
    }
    Arrays.sort(ratios);
    return ratios[PAIRS / 2];
  }
}
