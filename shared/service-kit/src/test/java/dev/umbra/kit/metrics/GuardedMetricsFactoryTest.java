package dev.umbra.kit.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A connection that got no socket metric (Vert.x 5.0.7 race at bind) must not break its requests.
 */
class GuardedMetricsFactoryTest {
  private static final SocketAddress LOCAL = SocketAddress.inetSocketAddress(8080, "127.0.0.1");

  private static HttpRequest request() {
    return new HttpRequest() {
      @Override
      public int id() {
        return 1;
      }

      @Override
      public String uri() {
        return "/healthz";
      }

      @Override
      public String absoluteURI() {
        return "http://127.0.0.1:8080/healthz";
      }

      @Override
      public HttpMethod method() {
        return HttpMethod.GET;
      }

      @Override
      public MultiMap headers() {
        return MultiMap.caseInsensitiveMultiMap();
      }

      @Override
      public SocketAddress remoteAddress() {
        return SocketAddress.inetSocketAddress(40000, "127.0.0.1");
      }
    };
  }

  private static VertxOptions options() {
    return new VertxOptions()
        .setMetricsOptions(
            new MicrometerMetricsOptions()
                .setEnabled(true)
                .setRegistryName("test-" + java.util.UUID.randomUUID()));
  }

  @SuppressWarnings("unchecked")
  private static HttpServerMetrics<Object, Object, Object> serverMetrics(
      io.vertx.core.spi.VertxMetricsFactory factory) {
    return (HttpServerMetrics<Object, Object, Object>)
        factory.metrics(options()).createHttpServerMetrics(new HttpServerOptions(), LOCAL);
  }

  @Test
  void unguardedMicrometerFailsARequestOnAConnectionWithoutSocketMetric() {
    // the bug this guard exists for; when a Vert.x upgrade fixes it, this fails: drop the guard
    // then
    HttpServerMetrics<Object, Object, Object> raw =
        serverMetrics(
            new MicrometerMetricsFactory(
                new PrometheusMeterRegistry(
                    io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT)));
    assertThatThrownBy(() -> raw.requestBegin(null, request()))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void skipsCallbacksAboutMissingMetricsInsteadOfThrowing() {
    HttpServerMetrics<Object, Object, Object> guarded =
        serverMetrics(
            new GuardedMetricsFactory(new MicrometerMetricsFactory(Metrics.newRegistry())));
    assertThat(guarded.requestBegin(null, request())).isNull();
    guarded.requestEnd(null, request(), 10);
    guarded.responseBegin(null, null);
    guarded.responseEnd(null, null, 10);
    guarded.requestRouted(null, "/healthz");
    guarded.bytesRead(null, LOCAL, 10);
    guarded.bytesWritten(null, LOCAL, 10);
    guarded.disconnected(null, LOCAL);
    guarded.disconnected(null);
  }

  @Test
  void eachKitVertxReportsIntoItsOwnRegistry() throws Exception {
    // dev mode runs five services in one JVM, each with its own registry and /metrics
    stillCountsRequestsOfAServerBuiltByTheKit();
    stillCountsRequestsOfAServerBuiltByTheKit();
  }

  @Test
  void stillCountsRequestsOfAServerBuiltByTheKit() throws Exception {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Metrics.newVertx(registry);
    try {
      var server =
          vertx
              .createHttpServer()
              .requestHandler(r -> r.response().end("ok"))
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      var client =
          vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_1_1));
      for (int i = 0; i < 3; i++) {
        String body =
            client
                .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/x")
                .compose(req -> req.send().compose(resp -> resp.body()))
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS)
                .toString();
        assertThat(body).isEqualTo("ok");
      }
      assertThat(registry.scrape())
          .containsPattern("vertx_http_server_requests_total\\{[^}]*\\} 3\\.0");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
