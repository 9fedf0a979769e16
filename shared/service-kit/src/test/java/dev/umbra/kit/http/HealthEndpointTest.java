package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** /healthz, /metrics and /admin/logs of a real service against real PostgreSQL and Redis. */
@ExtendWith(VertxExtension.class)
class HealthEndpointTest {
  private static final String ADMIN = "admin-token-for-tests-0123456789";

  static final class Minimal extends UmbraService {
    Minimal(ServiceRuntime runtime) {
      super(runtime);
    }

    @Override
    protected Future<Void> mount(Router router) {
      router
          .get("/boom")
          .handler(ctx -> ctx.fail(new IllegalStateException("secret-canary-in-exception")));
      return Future.succeededFuture();
    }
  }

  @TempDir Path home;
  private TestPostgres pg;
  private WebClient http;

  @BeforeEach
  void setUp(Vertx vertx) {
    pg = TestPostgres.createDatabase();
    http = WebClient.create(vertx);
  }

  @AfterEach
  void tearDown() {
    pg.close();
  }

  private Future<Minimal> start(Vertx vertx, Bus bus) {
    ServiceConfig cfg =
        TestServices.config(
            ServiceName.AUDIT,
            pg,
            TestRedis.randomPrefix(),
            home,
            Map.of("UMBRA_ADMIN_TOKEN", ADMIN));
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    return TestServices.deploy(vertx, cfg, bus, registry, Clock.systemUTC(), Minimal::new);
  }

  private Future<HttpResponse<io.vertx.core.buffer.Buffer>> get(int port, String path) {
    return http.get(port, "127.0.0.1", path).send();
  }

  @Test
  void answers200WhenPostgresAndRedisAreReachable(Vertx vertx, VertxTestContext ctx) {
    start(vertx, RedisBus.create(vertx, TestRedis.url(), "t:"))
        .compose(s -> get(s.actualPort(), "/healthz"))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.statusCode()).isEqualTo(200);
                          JsonObject body = r.bodyAsJsonObject();
                          assertThat(body.getString("status")).isEqualTo("ok");
                          assertThat(
                                  body.getJsonObject("checks")
                                      .getJsonObject("postgres")
                                      .getBoolean("ok"))
                              .isTrue();
                          assertThat(
                                  body.getJsonObject("checks")
                                      .getJsonObject("redis")
                                      .getBoolean("ok"))
                              .isTrue();
                          ctx.completeNow();
                        })));
  }

  @Test
  void answers503NamingRedisWhenRedisIsUnreachable(Vertx vertx, VertxTestContext ctx) {
    start(vertx, RedisBus.create(vertx, URI.create("redis://127.0.0.1:1"), "t:"))
        .compose(s -> get(s.actualPort(), "/healthz"))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.statusCode()).isEqualTo(503);
                          JsonObject redis =
                              r.bodyAsJsonObject().getJsonObject("checks").getJsonObject("redis");
                          assertThat(redis.getBoolean("ok")).isFalse();
                          assertThat(redis.getString("error")).startsWith("redis");
                          ctx.completeNow();
                        })));
  }

  @Test
  void answers503NamingPostgresWhenItsDatabaseGoesAway(Vertx vertx, VertxTestContext ctx) {
    start(vertx, RedisBus.create(vertx, TestRedis.url(), "t:"))
        .compose(
            s ->
                vertx.executeBlocking(
                    () -> {
                      pg.close(); // DROP DATABASE ... WITH (FORCE): live connections are terminated
                      return s;
                    }))
        .compose(s -> get(s.actualPort(), "/healthz"))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.statusCode()).isEqualTo(503);
                          JsonObject checks = r.bodyAsJsonObject().getJsonObject("checks");
                          assertThat(checks.getJsonObject("postgres").getBoolean("ok")).isFalse();
                          assertThat(checks.getJsonObject("redis").getBoolean("ok")).isTrue();
                          ctx.completeNow();
                        })));
  }

  @Test
  void servesPrometheusMetricsWithJvmAndHttpServerMeters(VertxTestContext ctx) {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx metered = Metrics.newVertx(registry);
    ServiceConfig cfg = TestServices.config(ServiceName.AUDIT, pg, "t:", home, Map.of());
    WebClient client = WebClient.create(metered);
    TestServices.deploy(
            metered,
            cfg,
            RedisBus.create(metered, TestRedis.url(), "t:"),
            registry,
            Clock.systemUTC(),
            Minimal::new)
        .compose(
            s ->
                client
                    .get(s.actualPort(), "127.0.0.1", "/healthz")
                    .send()
                    .compose(x -> client.get(s.actualPort(), "127.0.0.1", "/metrics").send()))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          metered.close();
                          assertThat(r.statusCode()).isEqualTo(200);
                          String text = r.bodyAsString();
                          assertThat(text)
                              .contains("jvm_memory_used_bytes")
                              .contains("vertx_http_server_requests_total");
                          ctx.completeNow();
                        })));
  }

  @Test
  void adminLogsRequireTheAdminToken(Vertx vertx, VertxTestContext ctx) {
    start(vertx, RedisBus.create(vertx, TestRedis.url(), "t:"))
        .compose(
            s ->
                http.get(s.actualPort(), "127.0.0.1", "/admin/logs")
                    .bearerTokenAuthentication("wrong-token-0123456789")
                    .send()
                    .compose(
                        denied ->
                            http.get(s.actualPort(), "127.0.0.1", "/admin/logs")
                                .bearerTokenAuthentication(ADMIN)
                                .send()
                                .map(
                                    ok ->
                                        new int[] {
                                          denied.statusCode(),
                                          ok.statusCode(),
                                          ok.bodyAsJsonObject().getJsonArray("lines") != null
                                              ? 1
                                              : 0
                                        })))
        .onComplete(
            ctx.succeeding(
                codes ->
                    ctx.verify(
                        () -> {
                          assertThat(codes).containsExactly(401, 200, 1);
                          ctx.completeNow();
                        })));
  }

  @Test
  void unknownRoutesAndFailuresUseTheOneErrorShapeWithoutInternals(
      Vertx vertx, VertxTestContext ctx) {
    start(vertx, RedisBus.create(vertx, TestRedis.url(), "t:"))
        .compose(
            s ->
                get(s.actualPort(), "/nope")
                    .compose(a -> get(s.actualPort(), "/boom").map(b -> new Object[] {a, b})))
        .onComplete(
            ctx.succeeding(
                pair ->
                    ctx.verify(
                        () -> {
                          @SuppressWarnings("unchecked")
                          HttpResponse<io.vertx.core.buffer.Buffer> notFound =
                              (HttpResponse<io.vertx.core.buffer.Buffer>) pair[0];
                          @SuppressWarnings("unchecked")
                          HttpResponse<io.vertx.core.buffer.Buffer> boom =
                              (HttpResponse<io.vertx.core.buffer.Buffer>) pair[1];
                          assertThat(notFound.statusCode()).isEqualTo(404);
                          assertThat(
                                  notFound
                                      .bodyAsJsonObject()
                                      .getJsonObject("error")
                                      .getString("code"))
                              .isEqualTo("not_found");
                          assertThat(boom.statusCode()).isEqualTo(500);
                          assertThat(boom.bodyAsString())
                              .doesNotContain("secret-canary-in-exception");
                          ctx.completeNow();
                        })));
  }
}
