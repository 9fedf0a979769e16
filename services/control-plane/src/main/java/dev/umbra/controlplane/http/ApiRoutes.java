package dev.umbra.controlplane.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one table of this service's routes: each is mounted on the router and described in the
 * OpenAPI document, so the two cannot drift (a test compares the router with the document).
 */
public final class ApiRoutes {
  private static final Pattern PARAM = Pattern.compile("\\{([a-z_]+)}");

  /** How a route authenticates, as shown in the document. */
  public enum Auth {
    NONE,
    API_TOKEN,
    INTERNAL,
    MACHINE_SIGNATURE,
    /** A control-plane session token (JWT) of a trusted device or an agent (messaging). */
    SESSION_TOKEN,
    /**
     * Either: a member's API token, or a session token of a member's trusted device or of an agent
     * (agent work, docs/agents.md).
     */
    API_OR_SESSION_TOKEN
  }

  /**
   * The one error body of every failure, whatever the route: {@code
   * {"error":{"code","message","field"?}}}.
   */
  public static final Schema ERROR =
      Schema.named(
          "Error",
          Schema.object()
              .required(
                  "error",
                  Schema.object()
                      .required(
                          "code",
                          Schema.code()
                              .describe(
                                  "stable machine-readable code, e.g. bad_request, unauthorized, forbidden, not_found, conflict"))
                      .required("message", Schema.string().describe("for people; never parse it"))
                      .optional(
                          "field",
                          Schema.string().describe("the request member or parameter at fault"))
                      .build())
              .build());

  /**
   * One route. {@code request} is the body's schema ({@link Schema#NO_BODY} when it reads none);
   * {@code response} the schema of the {@code okStatus} answer ({@link Schema#EMPTY} for 204).
   * Either is null only for a route added without schemas, which {@code OpenApiTest} refuses.
   */
  public record Op(
      HttpMethod method,
      String path,
      String summary,
      Auth auth,
      int okStatus,
      Schema request,
      Schema response,
      Handler<RoutingContext> handler) {}

  private final List<Op> ops = new ArrayList<>();
  private final List<Op> mountedFirst = new ArrayList<>();

  public ApiRoutes add(
      HttpMethod method,
      String path,
      String summary,
      Auth auth,
      int okStatus,
      Schema request,
      Schema response,
      Handler<RoutingContext> handler) {
    if (okStatus == 204 && !response.isNone()) {
      throw new IllegalArgumentException("a 204 has no body: " + method + " " + path);
    }
    ops.add(new Op(method, path, summary, auth, okStatus, request, response, handler));
    return this;
  }

  /**
   * A route without request and response schemas. Kept so a route added elsewhere still mounts;
   * {@code OpenApiTest} fails until its schemas are given with the other {@code add}.
   */
  @Deprecated
  public ApiRoutes add(
      HttpMethod method,
      String path,
      String summary,
      Auth auth,
      int okStatus,
      Handler<RoutingContext> handler) {
    ops.add(new Op(method, path, summary, auth, okStatus, null, null, handler));
    return this;
  }

  public List<Op> ops() {
    return List.copyOf(ops);
  }

  /**
   * The route whose template matches {@code method} and a concrete {@code path} (tests map each
   * response to its schema); where templates overlap, the one with more literal segments wins, as
   * in the router.
   */
  public Optional<Op> match(String method, String path) {
    String[] parts = path.split("/", -1);
    Op best = null;
    int bestLiterals = -1;
    for (Op op : ops) {
      String[] t = op.path().split("/", -1);
      if (!op.method().name().equals(method) || t.length != parts.length) {
        continue;
      }
      int literals = 0;
      boolean ok = true;
      for (int i = 0; i < t.length && ok; i++) {
        if (PARAM.matcher(t[i]).matches()) {
          ok = !parts[i].isEmpty();
        } else {
          ok = t[i].equals(parts[i]);
          literals++;
        }
      }
      if (ok && literals > bestLiterals) {
        best = op;
        bestLiterals = literals;
      }
    }
    return Optional.ofNullable(best);
  }

  /**
   * Mounts every route ({@code {name}} becomes {@code :name}), each behind the authenticating
   * handler of its {@link Auth}, so the caller is authenticated before the route's handler reads a
   * path parameter or a byte of the body: an unauthenticated request gets 401 and learns no field
   * name. {@code authenticators} has no handler for the routes whose credential is in the body
   * itself ({@link Auth#NONE}, {@link Auth#MACHINE_SIGNATURE}); the route checks it. Those of
   * {@link #mountFirst} come first, then the others in the order they were added.
   */
  public void mount(
      Router router, Function<Auth, Optional<Handler<RoutingContext>>> authenticators) {
    List<Op> order = new ArrayList<>(mountedFirst);
    ops.stream().filter(op -> !mountedFirst.contains(op)).forEach(order::add);
    for (Op op : order) {
      Route route = router.route(op.method(), routerPath(op.path()));
      Optional<Handler<RoutingContext>> first = authenticators.apply(op.auth());
      if (first.isEmpty() && op.auth() != Auth.NONE && op.auth() != Auth.MACHINE_SIGNATURE) {
        throw new IllegalStateException(
            "no authenticator for " + op.auth() + " (" + op.method() + " " + op.path() + ")");
      }
      first.ifPresent(route::handler);
      route.handler(op.handler());
    }
  }

  /**
   * Mounts the route {@code method path} (already added) before the others. Vert.x Web tries the
   * routes in order and runs each one's path regex before it compares the method, so a request to a
   * route mounted late pays the regexes of every route before it: 11 % of a control plane's CPU on
   * the messaging routes under the messaging benchmark (docs/benchmarks.md, "Messaging"). Refused
   * unless no other route of that method has a path template that can match the same path, so the
   * order changes which route serves no request.
   */
  public ApiRoutes mountFirst(HttpMethod method, String path) {
    Op op =
        ops.stream()
            .filter(o -> o.method().equals(method) && o.path().equals(path))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no route " + method + " " + path));
    for (Op other : ops) {
      if (other != op && other.method().equals(method) && overlap(other.path(), path)) {
        throw new IllegalStateException(
            method + " " + path + " overlaps " + other.path() + ": its order matters");
      }
    }
    if (!mountedFirst.contains(op)) {
      mountedFirst.add(op);
    }
    return this;
  }

  /** Whether two path templates can match one concrete path ({@code {name}} matches a segment). */
  static boolean overlap(String a, String b) {
    String[] x = a.split("/", -1);
    String[] y = b.split("/", -1);
    if (x.length != y.length) {
      return false;
    }
    for (int i = 0; i < x.length; i++) {
      boolean param = PARAM.matcher(x[i]).matches() || PARAM.matcher(y[i]).matches();
      if (!param && !x[i].equals(y[i])) {
        return false;
      }
    }
    return true;
  }

  public static String routerPath(String openApiPath) {
    return PARAM.matcher(openApiPath).replaceAll(":$1");
  }

  /**
   * The OpenAPI 3.1 document of the table: every operation with its summary, path parameters,
   * security, request body schema (when it reads one), the schema of its success answer and the one
   * error shape as {@code default}. Named schemas are shared under {@code components}.
   */
  public JsonObject openApi(String title, String version) {
    JsonObject paths = new JsonObject();
    JsonObject components = new JsonObject();
    ERROR.components().forEach(components::put);
    for (Op op : ops) {
      JsonObject item = paths.getJsonObject(op.path());
      if (item == null) {
        item = new JsonObject();
        paths.put(op.path(), item);
      }
      item.put(op.method().name().toLowerCase(Locale.ROOT), operation(op, components));
    }
    JsonObject schemes = securitySchemes();
    return new JsonObject()
        .put("openapi", "3.1.0")
        .put("jsonSchemaDialect", "https://json-schema.org/draft/2020-12/schema")
        .put("info", new JsonObject().put("title", title).put("version", version))
        .put("paths", paths)
        .put(
            "components",
            new JsonObject().put("schemas", components).put("securitySchemes", schemes));
  }

  /** One operation of the document; the named schemas it uses are added to {@code components}. */
  private static JsonObject operation(Op op, JsonObject components) {
    JsonArray params = new JsonArray();
    Matcher m = PARAM.matcher(op.path());
    while (m.find()) {
      params.add(
          new JsonObject()
              .put("name", m.group(1))
              .put("in", "path")
              .put("required", true)
              .put("schema", Schema.uuid().doc()));
    }
    JsonObject ok =
        new JsonObject().put("description", op.okStatus() == 204 ? "done, no body" : "success");
    if (op.response() != null && !op.response().isNone()) {
      ok.put(
          "content",
          new JsonObject()
              .put("application/json", new JsonObject().put("schema", op.response().doc())));
      op.response().components().forEach(components::put);
    }
    JsonObject responses =
        new JsonObject()
            .put(String.valueOf(op.okStatus()), ok)
            .put(
                "default",
                new JsonObject()
                    .put("description", "any failure (4xx, 5xx), always this shape")
                    .put(
                        "content",
                        new JsonObject()
                            .put("application/json", new JsonObject().put("schema", ERROR.doc()))));
    JsonObject operation =
        new JsonObject()
            .put("summary", op.summary())
            .put(
                "operationId",
                op.method().name().toLowerCase(Locale.ROOT)
                    + op.path().replaceAll("[^A-Za-z0-9]+", "_"))
            .put("parameters", params)
            .put("responses", responses);
    if (op.request() != null && !op.request().isNone()) {
      operation.put(
          "requestBody",
          new JsonObject()
              .put("required", true)
              .put(
                  "content",
                  new JsonObject()
                      .put(
                          "application/json", new JsonObject().put("schema", op.request().doc()))));
      op.request().components().forEach(components::put);
    }
    switch (op.auth()) {
      case API_TOKEN ->
          operation.put(
              "security", new JsonArray().add(new JsonObject().put("apiToken", new JsonArray())));
      case INTERNAL ->
          operation.put(
              "security", new JsonArray().add(new JsonObject().put("internal", new JsonArray())));
      case SESSION_TOKEN ->
          operation.put(
              "security",
              new JsonArray().add(new JsonObject().put("sessionToken", new JsonArray())));
      case API_OR_SESSION_TOKEN ->
          operation.put(
              "security",
              new JsonArray()
                  .add(new JsonObject().put("apiToken", new JsonArray()))
                  .add(new JsonObject().put("sessionToken", new JsonArray())));
      case MACHINE_SIGNATURE ->
          operation
              .put("security", new JsonArray())
              .put(
                  "description",
                  "Authenticated by the body: workspace_id, machine_id, timestamp_ms (unix ms, within 60 s of the server's clock) and "
                      + "signature (Ed25519 by the machine's binding key, 128 hex digits) over the route's message (docs/control-plane.md)");
      case NONE -> operation.put("security", new JsonArray());
    }
    return operation;
  }

  /** The document's security schemes: API tokens, session tokens (messaging), internal calls. */
  private static JsonObject securitySchemes() {
    return new JsonObject()
        .put(
            "apiToken",
            new JsonObject()
                .put("type", "http")
                .put("scheme", "bearer")
                .put("description", "an API token umb_...; see docs/control-plane.md"))
        .put(
            "sessionToken",
            new JsonObject()
                .put("type", "http")
                .put("scheme", "bearer")
                .put("bearerFormat", "JWT")
                .put(
                    "description",
                    "a control-plane session token of a trusted device or an agent; see docs/messaging.md"))
        .put(
            "internal",
            new JsonObject()
                .put("type", "apiKey")
                .put("in", "header")
                .put("name", "X-Umbra-Internal"));
  }
}
