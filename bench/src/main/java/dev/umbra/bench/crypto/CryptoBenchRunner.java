package dev.umbra.bench.crypto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the crypto benchmarks with short settings (about 3 minutes on 2 cores) and prints ratio
 * lines for docs/benchmarks.md. The machine is shared, so the payload comparison runs in {@value
 * #ROUNDS} rounds (umbra and raw JCE back to back in each, one fork each) and reports the median of
 * the per-round ratios (every score is the median of its iterations), plus a "paired" ratio from
 * {@link PairedPayloadRatio}, which alternates short batches of both in one thread so that both see
 * the same load; the goal is judged on the paired ratio. A subset: system property {@code
 * umbra.bench.only} = {@code payload} or {@code other}.
 */
public final class CryptoBenchRunner {
  /** Goal from the issue: our payload layer costs at most 1.2x raw AES-GCM at 16 KiB. */
  static final double PAYLOAD_RATIO_GOAL = 1.2;

  static final int ROUNDS = 3;
  private static final String[] SIZES = {"64", "1024", "16384"};

  private CryptoBenchRunner() {}

  public static void main(String[] args) throws RunnerException {
    String only = System.getProperty("umbra.bench.only", "all");
    List<String> lines = new ArrayList<>();
    if (!only.equals("other")) {
      Map<String, List<Double>> ratios = new HashMap<>();
      Map<String, List<String>> detail = new HashMap<>();
      for (int round = 1; round <= ROUNDS; round++) {
        Map<String, Double> score = run(WebTtyPayloadBench.class.getName());
        for (String size : SIZES) {
          double umbra = score.get("umbraSealOpen@" + size);
          double raw = score.get("rawJceSealOpen@" + size);
          ratios.computeIfAbsent(size, k -> new ArrayList<>()).add(umbra / raw);
          detail
              .computeIfAbsent(size, k -> new ArrayList<>())
              .add(String.format("%.2f/%.2f us", umbra, raw));
        }
      }
      for (String size : SIZES) {
        double ratio = median(ratios.get(size));
        double paired = pairedRatio(Integer.parseInt(size));
        lines.add(
            String.format(
                "webtty payload seal+open %5s B: ratio umbra/raw JCE AES-256-GCM %.2fx JMH, %.2fx paired"
                    + " (JMH rounds umbra/raw: %s)%s",
                size,
                ratio,
                paired,
                String.join(", ", detail.get(size)),
                "16384".equals(size)
                    ? (paired <= PAYLOAD_RATIO_GOAL
                        ? " -- goal <= 1.2x met"
                        : " -- goal <= 1.2x NOT met")
                    : ""));
      }
    }
    String others =
        "("
            + NoiseHandshakeBench.class.getName()
            + "|"
            + HpkeGrantBench.class.getName()
            + "|"
            + Argon2idBench.class.getName()
            + ")";
    if (!only.equals("payload")) {
      Map<String, Double> score = run(others);
      line(
          lines,
          score,
          "ikHandshake",
          "Noise_IK_25519_AESGCM_SHA256 handshakes, both sides + split: %.0f /s");
      line(lines, score, "grantWrap", "WebTTY HPKE grant wrap: %.0f /s");
      line(lines, score, "grantUnwrap", "WebTTY HPKE grant unwrap: %.0f /s");
      line(lines, score, "argon2idHash", "Argon2id hash (m=19 MiB, t=2, p=1): %.1f ms/op");
    }
    System.out.println();
    System.out.println("== umbra-crypto benchmark results ==");
    System.out.printf(
        "machine: %s, %d cpus, %s %s, %s %s%n",
        System.getProperty("os.arch"),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name"),
        System.getProperty("java.version"),
        System.getProperty("os.name"),
        System.getProperty("os.version"));
    lines.forEach(System.out::println);
  }

  private static Map<String, Double> run(String include) throws RunnerException {
    Options options =
        new OptionsBuilder()
            .include(include)
            .forks(1)
            .warmupIterations(3)
            .warmupTime(TimeValue.milliseconds(500))
            .measurementIterations(6)
            .measurementTime(TimeValue.milliseconds(500))
            .threads(1)
            .shouldFailOnError(true)
            .build();
    Map<String, Double> score = new HashMap<>();
    for (RunResult r : new Runner(options).run()) {
      String name = r.getParams().getBenchmark().replaceAll(".*\\.", "");
      String size = r.getParams().getParam("size");
      score.put(
          size == null ? name : name + "@" + size,
          r.getPrimaryResult().getStatistics().getPercentile(50));
    }
    return score;
  }

  private static double pairedRatio(int size) {
    try {
      return PairedPayloadRatio.measure(size);
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static void line(
      List<String> lines, Map<String, Double> score, String key, String format) {
    Double value = score.get(key);
    if (value != null) {
      lines.add(String.format(format, value));
    }
  }
}
