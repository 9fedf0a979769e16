package dev.umbra.kit.http;

import dev.umbra.kit.log.LogRing;
import dev.umbra.proto.api.WireVersions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP surface every service shares: {@code /healthz}, {@code /metrics}, {@code /admin/logs}
 * and one JSON error shape for every failure.
 */
public final class ServiceHttp {
  private static final Logger log = LoggerFactory.getLogger(ServiceHttp.class);
  public static final long MAX_BODY_BYTES = 1024 * 1024;
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

  private ServiceHttp() {}

  /**
   * A router with the shared endpoints mounted and the error handler installed; the admin
   * endpoint's failed-attempt budget, and the connection guard, which routes reach through the
   * context ({@link ConnectionGuard#upgraded}; null when there is none).
   */
  public static Router router(
      Vertx vertx,
      String service,
      PrometheusMeterRegistry registry,
      List<HealthCheck> checks,
      Optional<String> adminToken,
      TrustedProxies trustedProxies,
      AttemptBudget adminAttempts,
      ConnectionGuard guard) {
    Router router = frontRouter(vertx, service, registry, trustedProxies, guard);
    router.get("/healthz").handler(ctx -> health(vertx, service, checks, ctx));
    router
        .get("/metrics")
        .handler(
            ctx ->
                ctx.response()
                    .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(registry.scrape()));
    router.get("/admin/logs").handler(ctx -> adminLogs(ctx, adminToken, adminAttempts));
    return router;
  }

  /**
   * A router with what runs before every route of ours (compressed bodies refused, the connection
   * guard, the wire version, the client address, the body limit) and the error handler, and no
   * endpoint: a service-to-service listener's ({@code UmbraService.serviceToServicePort}).
   */
  public static Router frontRouter(
      Vertx vertx,
      String service,
      PrometheusMeterRegistry registry,
      TrustedProxies trustedProxies,
      ConnectionGuard guard) {
    Router router = Router.router(vertx);
    Counter disconnects =
        Counter.builder("umbra.http.client_disconnects")
            .description("requests whose client went away before the request was read or answered")
            .tag("service", service)
            .register(registry);
    router.route().order(Integer.MIN_VALUE).handler(ServiceHttp::refuseContentEncoding);
    if (guard != null) {
      router.route().order(Integer.MIN_VALUE + 1).handler(guard.contextHandler());
    }
    // the wire version before any route, WebSocket upgrades included (docs/deploy.md, "Upgrades")
    router
        .route()
        .order(Integer.MIN_VALUE + 2)
        .handler(WireNegotiation.handler(WireVersions.THIS_BUILD, registry, service));
    router.route().handler(ClientAddress.resolver(trustedProxies));
    router
        .route()
        .handler(BodyHandler.create().setBodyLimit(MAX_BODY_BYTES).setHandleFileUploads(false));
    router.route().failureHandler(ctx -> failure(ctx, disconnects));
    return router;
  }

  /**
   * Refuses a request body sent compressed ({@code Content-Encoding} other than {@code identity}):
   * nothing of ours inflates what a client sends, so a small compressed body can never become a
   * large one in memory (docs/security.md, "Network edge").
   */
  private static void refuseContentEncoding(RoutingContext ctx) {
    String enc = ctx.request().getHeader("content-encoding");
    if (enc != null && !enc.isBlank() && !enc.trim().equalsIgnoreCase("identity")) {
      ctx.response().putHeader("accept-encoding", "identity");
      ctx.response().putHeader("connection", "close");
      sendError(
          ctx,
          new ApiException(
              415,
              "unsupported_content_encoding",
              "compressed request bodies are not accepted; send the body without Content-Encoding"));
      return;
    }
    ctx.next();
  }

  /** Adds the JSON 404 for unknown routes; call after all routes are mounted. */
  public static void finish(Router router) {
    router
        .route()
        .last()
        .handler(ctx -> sendError(ctx, ApiException.notFound("route " + ctx.request().path())));
  }

  private static void health(
      Vertx vertx, String service, List<HealthCheck> checks, RoutingContext ctx) {
    List<Future<Void>> probes = new ArrayList<>();
    Map<String, JsonObject> results = new LinkedHashMap<>();
    for (HealthCheck check : checks) {
      JsonObject r = new JsonObject();
      results.put(check.name(), r);
      Future<Void> probe;
      try {
        probe =
            check
                .probe()
                .get()
                .timeout(PROBE_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        probe = Future.failedFuture(e);
      }
      probes.add(
          probe
              .onSuccess(v -> r.put("ok", true))
              .recover(
                  e -> {
                    r.put("ok", false).put("error", describe(check.name(), e));
                    return Future.succeededFuture();
                  }));
    }
    Future.join(probes)
        .onComplete(
            x -> {
              boolean ok = results.values().stream().allMatch(r -> r.getBoolean("ok", false));
              JsonObject body =
                  new JsonObject()
                      .put("service", service)
                      .put("status", ok ? "ok" : "unavailable")
                      .put("checks", new JsonObject(new LinkedHashMap<>(results)));
              ctx.response()
                  .setStatusCode(ok ? 200 : 503)
                  .putHeader("content-type", "application/json")
                  .putHeader("cache-control", "no-store")
                  .end(body.encode());
            });
  }

  private static String describe(String name, Throwable e) {
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (e instanceof java.util.concurrent.TimeoutException
        || msg.toLowerCase().contains("timeout")
        || msg.toLowerCase().contains("timed out")) {
      return name + " did not answer within " + PROBE_TIMEOUT.toSeconds() + " s";
    }
    return name + " unreachable: " + msg;
  }

  private static void adminLogs(
      RoutingContext ctx, Optional<String> adminToken, AttemptBudget attempts) {
    if (adminToken.isEmpty()) {
      sendError(
          ctx,
          new ApiException(
              404, "not_found", "admin endpoints are disabled; set UMBRA_ADMIN_TOKEN"));
      return;
    }
    String client = ClientAddress.of(ctx);
    if (!attempts.allows(client)) {
      ctx.response()
          .putHeader("retry-after", Long.toString(Math.max(1, attempts.retryAfterSeconds(client))));
      sendError(
          ctx,
          new ApiException(
              429, "rate_limited", "too many failed admin token attempts; retry later"));
      return;
    }
    String auth = ctx.request().getHeader("authorization");
    String presented = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : "";
    if (!constantTimeEquals(presented, adminToken.get())) {
      attempts.failed(client);
      sendError(ctx, ApiException.unauthorized("admin token required"));
      return;
    }
    int limit = 500;
    String l = ctx.request().getParam("limit");
    if (l != null) {
      try {
        limit = Math.max(1, Math.min(2000, Integer.parseInt(l)));
      } catch (NumberFormatException e) {
        sendError(
            ctx, ApiException.badRequest("limit", "limit must be an integer between 1 and 2000"));
        return;
      }
    }
    ctx.response()
        .putHeader("content-type", "application/json")
        .end(
            new JsonObject()
                .put("lines", new JsonArray(new ArrayList<>(LogRing.installed().recent(limit))))
                .encode());
  }

  /** Compares digests so the time taken does not depend on where the inputs differ. */
  public static boolean constantTimeEquals(String a, String b) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] da = sha.digest(a.getBytes(StandardCharsets.UTF_8));
      byte[] db = sha.digest(b.getBytes(StandardCharsets.UTF_8));
      return MessageDigest.isEqual(da, db);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void failure(RoutingContext ctx, Counter disconnects) {
    Throwable f = ctx.failure();
    if (isClientGone(ctx, f)) {
      // the client went away mid-request: nothing to answer, nothing an operator must act on
      disconnects.increment();
      log.debug("client disconnected before the request was read: {}", ctx.request().path());
      return;
    }
    if (f instanceof ApiException api) {
      sendError(ctx, api);
    } else if (f == null) {
      int code = ctx.statusCode();
      String c = code == 413 ? "payload_too_large" : code == 404 ? "not_found" : "http_" + code;
      sendError(
          ctx,
          new ApiException(code, c, code == 413 ? "request body too large" : "request failed"));
    } else if (f instanceof dev.umbra.kit.db.DatabaseUnavailableException) {
      // PostgreSQL unreachable or not answering within UMBRA_PG_TIMEOUT_MS: a retryable outage
      log.warn("request failed: {}", f.getMessage());
      sendError(ctx, ApiException.unavailable("the database is unavailable right now; try again"));
    } else if (f instanceof io.vertx.core.json.DecodeException
        || f instanceof IllegalArgumentException) {
      sendError(ctx, ApiException.badRequest(null, "malformed request: " + safeMessage(f)));
    } else {
      log.atError()
          .addKeyValue("path", ctx.request().path())
          .log("request failed: {}", f.toString());
      sendError(ctx, new ApiException(500, "internal", "internal error; see the service log"));
    }
  }

  private static boolean isClientGone(RoutingContext ctx, Throwable f) {
    if (f instanceof HttpClosedException || f instanceof java.nio.channels.ClosedChannelException) {
      return true;
    }
    if (f instanceof io.vertx.core.VertxException
        && f.getMessage() != null
        && f.getMessage().contains("Connection was closed")) {
      return true;
    }
    return f != null && f.getClass().getName().endsWith("StreamResetException");
  }

  private static String safeMessage(Throwable f) {
    String m = f.getMessage() == null ? f.getClass().getSimpleName() : f.getMessage();
    return m.length() > 200 ? m.substring(0, 200) : m;
  }

  public static void sendError(RoutingContext ctx, ApiException e) {
    if (ctx.response().ended()) {
      return;
    }
    JsonObject err = new JsonObject().put("code", e.code()).put("message", e.getMessage());
    if (e.field() != null) {
      err.put("field", e.field());
    }
    ctx.response()
        .setStatusCode(e.status())
        .putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", err).encode());
  }

  /** Ends the request with a JSON body. */
  /**
   * Adapts a Future-returning route handler: success renders the body as JSON with {@code status}
   * (204 or a null body: no content), a throw or a failure goes to the router's error handler as
   * {@code toFailure} maps it (a service's domain refusal to an {@link ApiException}, say).
   */
  public static Handler<RoutingContext> jsonHandler(
      int status,
      Function<RoutingContext, Future<?>> work,
      Function<Throwable, Throwable> toFailure) {
    return ctx -> {
      Future<?> f;
      try {
        f = work.apply(ctx);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onSuccess(
              body -> {
                if (status == 204 || body == null) {
                  ctx.response().setStatusCode(204).end();
                } else {
                  json(ctx, status, body);
                }
              })
          .onFailure(e -> ctx.fail(toFailure.apply(e)));
    };
  }

  public static void json(RoutingContext ctx, int status, Object body) {
    String encoded =
        body instanceof JsonObject o
            ? o.encode()
            : body instanceof JsonArray a ? a.encode() : io.vertx.core.json.Json.encode(body);
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(encoded);
  }
}
