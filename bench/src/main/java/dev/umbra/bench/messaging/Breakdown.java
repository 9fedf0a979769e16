package dev.umbra.bench.messaging;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where an owner → agent message's time goes in the latency rounds (docs/benchmarks.md,
 * "Messaging", the breakdown). Two sources, both over the same rounds:
 *
 * <ul>
 *   <li>per message, the {@link System#nanoTime} stamps of the owner ({@link Stamps}: send start,
 *       sealed, request written, answered) joined by sequence number with the agent's (copy
 *       received, decrypted): one clock on one machine, so every difference is a stage;
 *   <li>the instances' stage histograms, {@code umbra_messaging_stage_seconds{stage}}, scraped from
 *       A's and B's {@code /metrics} before and after each round; the difference of the cumulative
 *       buckets is the round's histogram (percentiles interpolated within a bucket, which spans ~30
 *       %).
 * </ul>
 */
final class Breakdown {
  private static final Pattern BUCKET =
      Pattern.compile(
          "^umbra_messaging_stage_seconds_bucket\\{stage=\"(\\w+)\",le=\"([^\"]+)\"} (\\S+)$");

  /** A stage between two of a message's stamps (indices into its stamp array). */
  private record Span(String label, int from, int to) {
    long nanos(long[] message) {
      return message[to] - message[from];
    }
  }

  private static final Span SEALED = new Span("owner  send start -> sealed", 0, 1);
  private static final Span WRITTEN =
      new Span("owner  sealed -> request written (batcher, pool)", 1, 2);
  private static final Span ANSWERED =
      new Span("owner  request written -> answered (POST round trip)", 2, 3);
  private static final Span AFTER_ANSWER =
      new Span("agent  answered -> copy received (< 0: before the answer)", 3, 4);
  private static final Span OPENED = new Span("agent  copy received -> decrypted", 4, 5);
  private static final Span TOTAL = new Span("total  send start -> decrypted", 0, 5);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final Map<String, String> instances; // name -> base URL
  // per message: start, sealed, posted, answered, arrived, opened
  private final List<long[]> messages = new ArrayList<>();
  // "cp-a stored" -> le -> count in the rounds
  private final Map<String, TreeMap<Double, Double>> stages = new TreeMap<>();
  private Map<String, Map<String, Double>> before = Map.of();

  /** {@code instances}: name → base URL of the control planes whose {@code /metrics} are read. */
  Breakdown(Map<String, String> instances) {
    this.instances = instances;
  }

  /**
   * Reads every instance's {@code /metrics} {@code times} times, not counted: the scrape's code in
   * the services (the exposition format, the registry's walk) runs, and is compiled, before the
   * rounds, as it is in a deployment that Prometheus has scraped for a while. Without this the
   * scrape before round 1's messages was the services' first, and the JIT compilers compiled its
   * code while the messages went through (JIT logs of 2026-12-07, docs/benchmarks.md).
   */
  void warmUp(int times) throws IOException, InterruptedException {
    for (int i = 0; i < times; i++) {
      scrapeAll();
    }
  }

  /** Before a round: each instance's stage buckets now. */
  void roundStarts() throws IOException, InterruptedException {
    before = scrapeAll();
  }

  /**
   * After a round: the buckets' growth since {@link #roundStarts}, and the round's stamps (the
   * owner's and the agent's files of {@code phase}).
   */
  void roundEnded(String phase, Path ownerDir, Path agentDir)
      throws IOException, InterruptedException {
    Map<String, Map<String, Double>> after = scrapeAll();
    after.forEach(
        (name, buckets) ->
            buckets.forEach(
                (key, v) -> {
                  String[] k = key.split(" ");
                  double d = v - before.getOrDefault(name, Map.of()).getOrDefault(key, 0.0);
                  stages
                      .computeIfAbsent(name + " " + k[0], x -> new TreeMap<>())
                      .merge(le(k[1]), d, Double::sum);
                }));
    Map<Integer, long[]> agent = new HashMap<>();
    for (String l : Files.readAllLines(agentDir.resolve("stamps-" + phase + ".tsv"))) {
      long[] f = Arrays.stream(l.split(" ")).mapToLong(Long::parseLong).toArray();
      agent.put((int) f[0], f);
    }
    for (String l : Files.readAllLines(ownerDir.resolve("stamps-" + phase + ".tsv"))) {
      long[] o = Arrays.stream(l.split(" ")).mapToLong(Long::parseLong).toArray();
      long[] a = agent.get((int) o[0]);
      // a message whose request failed, or that never arrived, has no stage to show
      if (a != null && a[1] != 0 && o[3] != 0 && o[4] != 0) {
        messages.add(new long[] {o[1], o[2], o[3], o[4], a[1], a[2]});
      }
    }
  }

  private static double le(String le) {
    return le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
  }

  private Map<String, Map<String, Double>> scrapeAll() throws IOException, InterruptedException {
    Map<String, Map<String, Double>> out = new HashMap<>();
    for (Map.Entry<String, String> i : instances.entrySet()) {
      out.put(i.getKey(), scrape(i.getValue()));
    }
    return out;
  }

  /** {@code "stage le" -> cumulative count} of one instance's stage histograms. */
  private Map<String, Double> scrape(String baseUrl) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(baseUrl + "/metrics"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    Map<String, Double> out = new HashMap<>();
    r.body()
        .lines()
        .forEach(
            l -> {
              Matcher m = BUCKET.matcher(l);
              if (m.matches()) {
                out.put(m.group(1) + " " + m.group(2), Double.parseDouble(m.group(3)));
              }
            });
    return out;
  }

  /** The table: client stages per message, then the instances' stages, then end to end. */
  String render() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "%nwhere the time goes, latency rounds pooled (%d messages)          p50 us    p99 us%n",
            messages.size()));
    row(b, SEALED);
    row(b, WRITTEN);
    row(b, ANSWERED);
    server(b, "cp-a", "answered", "A      route entered -> answer written");
    server(b, "cp-a", "stored", "A      route entered -> send stored (queue, SQL, commit)");
    server(b, "cp-a", "published", "A      send stored -> notice published (Redis answered)");
    server(b, "cp-b", "pushed", "B      notice received -> frame written to the socket");
    row(b, "agent  request written -> copy received", 2, 4);
    row(b, AFTER_ANSWER);
    row(b, OPENED);
    row(b, TOTAL);
    slowest(b);
    return b.toString();
  }

  /**
   * The slowest 1 % of messages (end to end) against the middle 10 %: the mean of each client stage
   * in both, so a tail shows the stage it comes from (the percentiles above are of each stage on
   * its own, taken from different messages).
   */
  private void slowest(StringBuilder b) {
    if (messages.size() < 100) {
      return;
    }
    List<long[]> byTotal = new ArrayList<>(messages);
    byTotal.sort(Comparator.comparingLong(TOTAL::nanos));
    int n = byTotal.size();
    List<long[]> tail = byTotal.subList(n - n / 100, n);
    List<long[]> middle = byTotal.subList(n * 45 / 100, n * 55 / 100);
    b.append(
        String.format(
            Locale.ROOT,
            "%nthe slowest 1 %% (%d messages) against the middle 10 %%, mean us     middle   slowest%n",
            tail.size()));
    for (Span span : List.of(SEALED, WRITTEN, ANSWERED, AFTER_ANSWER, OPENED, TOTAL)) {
      b.append(
          String.format(
              Locale.ROOT,
              "%-64s %9d %9d%n",
              span.label(),
              meanMicros(middle, span),
              meanMicros(tail, span)));
    }
  }

  private static long meanMicros(List<long[]> ms, Span span) {
    return (long) ms.stream().mapToLong(span::nanos).average().orElse(0) / 1000;
  }

  private void row(StringBuilder b, Span span) {
    row(b, span.label(), span.from(), span.to());
  }

  private void row(StringBuilder b, String label, int from, int to) {
    if (messages.isEmpty()) {
      b.append(String.format(Locale.ROOT, "%-64s %9s %9s%n", label, "-", "-"));
      return;
    }
    long[] d = messages.stream().mapToLong(m -> m[to] - m[from]).sorted().toArray();
    b.append(
        String.format(
            Locale.ROOT,
            "%-64s %9d %9d%n",
            label,
            d[(int) Math.floor(0.5 * (d.length - 1))] / 1000,
            d[(int) Math.floor(0.99 * (d.length - 1))] / 1000));
  }

  private void server(StringBuilder b, String instance, String stage, String label) {
    TreeMap<Double, Double> h = stages.getOrDefault(instance + " " + stage, new TreeMap<>());
    double n = h.isEmpty() ? 0 : h.lastEntry().getValue();
    b.append(
        String.format(
            Locale.ROOT,
            "%-64s %9s %9s  (%.0f in /metrics)%n",
            label,
            quantile(h, 0.5),
            quantile(h, 0.99),
            n));
  }

  /**
   * The {@code q} quantile of a cumulative histogram ({@code le} in seconds → count), in whole
   * microseconds, interpolated within its bucket; {@code >X} past the last finite bound.
   */
  static String quantile(TreeMap<Double, Double> cumulative, double q) {
    if (cumulative.isEmpty() || cumulative.lastEntry().getValue() <= 0) {
      return "-";
    }
    double target = q * cumulative.lastEntry().getValue();
    double lowLe = 0;
    double lowCount = 0;
    for (Map.Entry<Double, Double> e : cumulative.entrySet()) {
      if (e.getValue() >= target) {
        if (e.getKey().isInfinite()) {
          return String.format(Locale.ROOT, ">%.0f", lowLe * 1e6);
        }
        double span = e.getValue() - lowCount;
        double at = span <= 0 ? 1 : (target - lowCount) / span;
        return String.format(Locale.ROOT, "%.0f", (lowLe + at * (e.getKey() - lowLe)) * 1e6);
      }
      lowLe = e.getKey();
      lowCount = e.getValue();
    }
    return "-";
  }
}
