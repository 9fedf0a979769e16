package dev.umbra.kit.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** Many HTTP requests at once, for tests of limits under concurrency (failure limiters). */
public final class ParallelHttp {
  private ParallelHttp() {}

  /**
   * Sends {@code n} requests at once ({@code request} makes the i-th); the count of each status.
   */
  public static Map<Integer, Integer> statuses(
      HttpClient http, int n, IntFunction<HttpRequest> request) throws Exception {
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(http.sendAsync(request.apply(i), HttpResponse.BodyHandlers.ofString()));
    }
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (var f : all) {
      statuses.merge(f.get(60, TimeUnit.SECONDS).statusCode(), 1, Integer::sum);
    }
    return statuses;
  }

  /**
   * The settings of a limit test: {@code limitSetting} at {@code limit}, and the edge's per-address
   * connection cap well above {@code attempts}, since every guess comes from one address at once.
   */
  public static Map<String, String> limitSettings(String limitSetting, int limit, int attempts) {
    return Map.of(
        limitSetting,
        String.valueOf(limit),
        "UMBRA_HTTP_MAX_CONNECTIONS_PER_IP",
        String.valueOf(4 * attempts));
  }

  /** A JSON POST of {@code json} to {@code uri} with a 60-second timeout. */
  public static HttpRequest postJson(URI uri, String json) {
    return HttpRequest.newBuilder(uri)
        .timeout(Duration.ofSeconds(60))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json))
        .build();
  }
}
