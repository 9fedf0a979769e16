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
    MACHINE_SIGNATURE
  }

  public record Op(HttpMethod method, String path, String summary, Auth auth, int okStatus, Handler<RoutingContext> handler) {}

  private final List<Op> ops = new ArrayList<>();

  public ApiRoutes add(HttpMethod method, String path, String summary, Auth auth, int okStatus, Handler<RoutingContext> handler) {
    ops.add(new Op(method, path, summary, auth, okStatus, handler));
    return this;
  }

  public List<Op> ops() {
    return List.copyOf(ops);
  }

  /**
   * Mounts every route ({@code {name}} becomes {@code :name}), each behind the authenticating
   * handler of its {@link Auth}, so the caller is authenticated before the route's handler reads
   * a path parameter or a byte of the body: an unauthenticated request gets 401 and learns no
   * field name. {@code authenticators} has no handler for the routes whose credential is in the
   * body itself ({@link Auth#NONE}, {@link Auth#MACHINE_SIGNATURE}); the route checks it.
   */
  public void mount(Router router, Function<Auth, Optional<Handler<RoutingContext>>> authenticators) {
    for (Op op : ops) {
      Route route = router.route(op.method(), routerPath(op.path()));
      Optional<Handler<RoutingContext>> first = authenticators.apply(op.auth());
      if (first.isEmpty() && (op.auth() == Auth.API_TOKEN || op.auth() == Auth.INTERNAL)) {
        throw new IllegalStateException("no authenticator for " + op.auth() + " (" + op.method() + " " + op.path() + ")");
      }
      first.ifPresent(route::handler);
      route.handler(op.handler());
    }
  }

  public static String routerPath(String openApiPath) {
    return PARAM.matcher(openApiPath).replaceAll(":$1");
  }

  /** The OpenAPI 3.1 document of the table. */
  public JsonObject openApi(String title, String version) {
    JsonObject paths = new JsonObject();
    for (Op op : ops) {
      JsonObject item = paths.getJsonObject(op.path());
      if (item == null) {
        item = new JsonObject();
        paths.put(op.path(), item);
      }
      JsonArray params = new JsonArray();
      Matcher m = PARAM.matcher(op.path());
      while (m.find()) {
        params.add(
            new JsonObject()
                .put("name", m.group(1))
                .put("in", "path")
                .put("required", true)
                .put("schema", new JsonObject().put("type", "string").put("format", "uuid")));
      }
      JsonObject responses =
          new JsonObject()
              .put(String.valueOf(op.okStatus()), new JsonObject().put("description", "success"))
              .put("default", new JsonObject().put("description", "error").put("content",
                  new JsonObject().put("application/json", new JsonObject().put("schema",
                      new JsonObject().put("$ref", "#/components/schemas/Error")))));
      JsonObject operation =
          new JsonObject()
              .put("summary", op.summary())
              .put("operationId", op.method().name().toLowerCase(Locale.ROOT) + op.path().replaceAll("[^A-Za-z0-9]+", "_"))
              .put("parameters", params)
              .put("responses", responses);
      switch (op.auth()) {
        case API_TOKEN -> operation.put("security", new JsonArray().add(new JsonObject().put("apiToken", new JsonArray())));
        case INTERNAL -> operation.put("security", new JsonArray().add(new JsonObject().put("internal", new JsonArray())));
        case MACHINE_SIGNATURE, NONE -> operation.put("security", new JsonArray());
      }
      item.put(op.method().name().toLowerCase(Locale.ROOT), operation);
    }
    JsonObject error =
        new JsonObject()
            .put("type", "object")
            .put("required", new JsonArray().add("error"))
            .put("properties", new JsonObject().put("error", new JsonObject()
                .put("type", "object")
                .put("required", new JsonArray().add("code").add("message"))
                .put("properties", new JsonObject()
                    .put("code", new JsonObject().put("type", "string"))
                    .put("message", new JsonObject().put("type", "string"))
                    .put("field", new JsonObject().put("type", "string")))));
    JsonObject schemes =
        new JsonObject()
            .put("apiToken", new JsonObject().put("type", "http").put("scheme", "bearer")
                .put("description", "an API token umb_...; see docs/control-plane.md"))
            .put("internal", new JsonObject().put("type", "apiKey").put("in", "header")
                .put("name", "X-Umbra-Internal"));
    return new JsonObject()
        .put("openapi", "3.1.0")
        .put("info", new JsonObject().put("title", title).put("version", version))
        .put("paths", paths)
        .put("components", new JsonObject().put("schemas", new JsonObject().put("Error", error))
            .put("securitySchemes", schemes));
  }
}
