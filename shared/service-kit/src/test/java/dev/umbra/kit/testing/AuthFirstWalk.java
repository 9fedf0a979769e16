package dev.umbra.kit.testing;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * "Unauthenticated gets 401 before anything else", walked from a service's router: every route that
 * is not on the test's explicit public list gets a request without credentials, with malformed path
 * parameters and a malformed JSON body naming an unknown field, and must answer 401 without naming
 * a field or a parameter. Blocking: call from the test thread.
 */
public final class AuthFirstWalk {
  /** The shared endpoints of every service that are public by design (ServiceHttp). */
  public static final Set<String> KIT_PUBLIC = Set.of("GET /healthz", "GET /metrics");

  static final String PROBE_FIELD = "zz_probe_field";
  static final String BAD_PARAM = "not-a-uuid";

  /** Truncated JSON whose first member is an unknown field: a validator that runs would name it. */
  static final String MALFORMED_BODY = "{\"" + PROBE_FIELD + "\": [1, {\"name\": ";

  private static final Pattern PARAM = Pattern.compile(":([A-Za-z_][A-Za-z0-9_]*)");

  private AuthFirstWalk() {}

  /** One request sent and its answer. */
  public record Probe(String route, List<String> params, int status, String body) {
    /** What breaks the rule in this answer, if anything. */
    public Optional<String> problem() {
      if (status != 401) {
        return Optional.of(route + ": status " + status + " (want 401): " + body);
      }
      JsonObject error;
      try {
        error = new JsonObject(body).getJsonObject("error");
      } catch (RuntimeException e) {
        return Optional.of(route + ": 401 without the JSON error shape: " + body);
      }
      if (error == null || !"unauthorized".equals(error.getString("code"))) {
        return Optional.of(route + ": 401 without error code unauthorized: " + body);
      }
      if (error.containsKey("field") || body.contains(PROBE_FIELD) || body.contains(BAD_PARAM)) {
        return Optional.of(route + ": 401 names a field or echoes input: " + body);
      }
      String message = error.getString("message", "");
      for (String p : params) {
        if (message.contains(p + " must")
            || message.contains("'" + p + "'")
            || message.contains(p + " is")) {
          return Optional.of(route + ": 401 describes the parameter " + p + ": " + body);
        }
      }
      return Optional.empty();
    }
  }

  /** Every "METHOD path" the router has (routes without methods count as GET and POST). */
  public static Set<String> routes(Router router) {
    Set<String> all = new TreeSet<>();
    for (Route r : router.getRoutes()) {
      if (r.getPath() == null) {
        continue; // the kit's global handlers and the final 404
      }
      for (HttpMethod m : methods(r)) {
        all.add(m.name() + " " + r.getPath());
      }
    }
    return all;
  }

  /**
   * Probes every route of {@code router} not in {@code publicRoutes} on the service at {@code
   * port}.
   */
  public static List<Probe> walk(Router router, int port, Set<String> publicRoutes) {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    List<Probe> probes = new ArrayList<>();
    for (String route : routes(router)) {
      if (publicRoutes.contains(route)) {
        continue;
      }
      int space = route.indexOf(' ');
      String method = route.substring(0, space);
      String path = route.substring(space + 1);
      List<String> params = new ArrayList<>();
      Matcher m = PARAM.matcher(path);
      while (m.find()) {
        params.add(m.group(1));
      }
      String concrete = PARAM.matcher(path).replaceAll(BAD_PARAM);
      HttpRequest req =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + concrete))
              .timeout(Duration.ofSeconds(20))
              .header("content-type", "application/json")
              .method(method, HttpRequest.BodyPublishers.ofString(MALFORMED_BODY))
              .build();
      try {
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        probes.add(new Probe(route, params, r.statusCode(), r.body() == null ? "" : r.body()));
      } catch (Exception e) {
        probes.add(new Probe(route, params, -1, e.toString()));
      }
    }
    return probes;
  }

  /** The problems of every probe (empty when every non-public route refused first with 401). */
  public static List<String> problems(List<Probe> probes) {
    return probes.stream().flatMap(p -> p.problem().stream()).toList();
  }

  private static Set<HttpMethod> methods(Route r) {
    Set<HttpMethod> ms = r.methods();
    return ms == null || ms.isEmpty() ? Set.of(HttpMethod.GET, HttpMethod.POST) : ms;
  }
}
