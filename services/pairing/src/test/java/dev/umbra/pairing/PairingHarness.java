package dev.umbra.pairing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.proto.testing.MutableClock;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real pairing service on an ephemeral port, against its own database and bus prefix, with a
 * stand-in control plane (JWKS of a test key, and the internal machine endpoint) on another port.
 */
final class PairingHarness implements AutoCloseable {
  static final String INTERNAL = "internal-test-credential-0123456789abcdef";
  final Vertx vertx;
  final TestPostgres pg;
  final Bus bus;
  final String prefix;
  final MutableClock clock = new MutableClock(Instant.now());
  final TestTokens tokens = new TestTokens();
  final List<JsonObject> machinesCreated = new CopyOnWriteArrayList<>();
  final AtomicInteger failNextBindings = new AtomicInteger();
  volatile boolean jwksDown;
  final HttpServer stub;
  final PairingService service;
  final URI base;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  record Response(int status, JsonObject body) {
    String code() {
      return body.getJsonObject("error") == null
          ? null
          : body.getJsonObject("error").getString("code");
    }
  }

  PairingHarness(Vertx vertx, Map<String, String> env) throws Exception {
    this.vertx = vertx;
    Router r = Router.router(vertx);
    r.route().handler(BodyHandler.create());
    r.get("/.well-known/jwks.json")
        .handler(
            ctx -> {
              if (jwksDown) {
                ctx.response().setStatusCode(500).end();
              } else {
                ctx.response().end(tokens.jwks().encode());
              }
            });
    r.post("/internal/v1/workspaces/:wid/machines")
        .handler(
            ctx -> {
              if (!INTERNAL.equals(ctx.request().getHeader("X-Umbra-Internal"))) {
                ctx.response().setStatusCode(401).end();
                return;
              }
              if (failNextBindings.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                ctx.response().setStatusCode(500).end();
                return;
              }
              JsonObject m =
                  ctx.body()
                      .asJsonObject()
                      .copy()
                      .put("id", UUID.randomUUID().toString())
                      .put("workspace_id", ctx.pathParam("wid"));
              machinesCreated.add(m);
              ctx.response().setStatusCode(201).end(m.encode());
            });
    stub =
        vertx
            .createHttpServer()
            .requestHandler(r)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get();
    pg = TestPostgres.createDatabase();
    prefix = TestRedis.randomPrefix();
    bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    Map<String, String> all = new HashMap<>(env);
    all.put("UMBRA_INTERNAL_TOKEN", INTERNAL);
    all.put("UMBRA_CONTROL_PLANE_URL", "http://127.0.0.1:" + stub.actualPort());
    ServiceConfig cfg =
        TestServices.config(
            ServiceName.PAIRING, pg, prefix, Files.createTempDirectory("umbra-pairing"), all);
    service =
        TestServices.deploy(vertx, cfg, bus, Metrics.newRegistry(), clock, PairingService::new)
            .toCompletionStage()
            .toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
    base = URI.create("http://127.0.0.1:" + service.actualPort());
  }

  String admin(UUID workspace) {
    return tokens.session(workspace, "admin", "pairing", clock.instant());
  }

  Response call(String method, String path, String token, JsonObject body) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(base.resolve(path))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body.encode()));
      if (token != null) {
        b.header("Authorization", "Bearer " + token);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String t = r.body() == null ? "" : r.body().trim();
      return new Response(r.statusCode(), t.startsWith("{") ? new JsonObject(t) : new JsonObject());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Creates a code in {@code workspace} as an admin; returns the response body (holding "code").
   */
  JsonObject createCode(UUID workspace, boolean requirePsk) {
    Response r =
        call(
            "POST",
            "/v1/workspaces/" + workspace + "/codes",
            admin(workspace),
            new JsonObject().put("require_psk", requirePsk));
    if (r.status() != 201) {
      throw new IllegalStateException("create code failed: " + r);
    }
    return r.body();
  }

  static JsonObject redemption(String code) {
    return new JsonObject()
        .put("code", code)
        .put("install_id", UUID.randomUUID().toString())
        .put("x25519_public_key", "ab".repeat(32))
        .put("ed25519_public_key", "cd".repeat(32))
        .put("name", "laptop")
        .put("os", "linux");
  }

  @Override
  public void close() throws Exception {
    vertx
        .undeploy(service.deploymentID())
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    stub.close();
    bus.close();
    pg.close();
  }
}
