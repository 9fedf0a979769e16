package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.WireVersionServer;
import dev.umbra.proto.api.WireVersions;
import dev.umbra.proto.api.WireVersions.Range;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every service's wire-version negotiation on a real HTTP server (docs/deploy.md, "Upgrades"):
 * today's service (the kit's router, {@link WireVersions#THIS_BUILD}) and a newer service that
 * dropped version 1 (versions 2 to 3), each with an API route and a WebSocket upgrade. Older
 * clients (no header) are served, clients newer than the service and older than it are refused with
 * 426 naming both ranges and the side to upgrade, before any route runs; never a silent close.
 */
class WireNegotiationTest {
  static Vertx vertx;
  static PrometheusMeterRegistry registry;
  static int today;
  static int newer;
  static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    registry = Metrics.newRegistry();
    Router router =
        ServiceHttp.router(
            vertx,
            "today",
            registry,
            List.of(),
            Optional.empty(),
            TrustedProxies.none(),
            new AttemptBudget(10, Clock.systemUTC()),
            null);
    today = WireVersionServer.listen(vertx, router);
    Router newerRouter = Router.router(vertx);
    newerRouter.route().handler(WireNegotiation.handler(new Range(2, 3), registry, "newer"));
    newer = WireVersionServer.listen(vertx, newerRouter);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static HttpResponse<String> get(int port, String... wire) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/thing"));
    for (String w : wire) {
      b.header(WireVersions.HEADER, w);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject error(HttpResponse<String> r) {
    return new JsonObject(r.body()).getJsonObject("error");
  }

  @Test
  void aClientOlderThanTheNegotiationIsServedWithVersionOneAndToldSo() throws Exception {
    HttpResponse<String> r = get(today);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(r.body()).getInteger("wire")).isEqualTo(1);
    assertThat(r.headers().firstValue(WireVersions.HEADER)).hasValue("1");
  }

  @Test
  void aClientSpeakingTodaysAndNewerVersionsGetsTheNewestTheServiceSpeaks() throws Exception {
    HttpResponse<String> r = get(today, "1-4");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue(WireVersions.HEADER)).hasValue("1");
    HttpResponse<String> n = get(newer, "1-4");
    assertThat(new JsonObject(n.body()).getInteger("wire")).isEqualTo(3);
  }

  @Test
  void aClientNewerThanTheServiceIsRefusedWith426NamingBothAndTheServiceToUpgrade()
      throws Exception {
    HttpResponse<String> r = get(today, "2-3");
    assertThat(r.statusCode()).isEqualTo(426);
    assertThat(r.headers().firstValue(WireVersions.HEADER)).hasValue("1");
    JsonObject e = error(r);
    assertThat(e.getString("code")).isEqualTo("unsupported_wire_version");
    assertThat(e.getString("upgrade")).isEqualTo("service");
    assertThat(e.getString("client_versions")).isEqualTo("2-3");
    assertThat(e.getString("service_versions")).isEqualTo("1");
    assertThat(e.getString("message"))
        .contains("wire version 1", "versions 2 to 3", "upgrade the service");
  }

  @Test
  void anOlderClientAgainstANewerServiceIsRefusedNamingTheClientToUpgrade() throws Exception {
    for (HttpResponse<String> r : List.of(get(newer), get(newer, "1"))) {
      assertThat(r.statusCode()).isEqualTo(426);
      assertThat(r.headers().firstValue(WireVersions.HEADER)).hasValue("2-3");
      assertThat(error(r).getString("upgrade")).isEqualTo("client");
      assertThat(error(r).getString("message")).contains("upgrade the client");
    }
  }

  @Test
  void aMalformedOversizedOrRepeatedHeaderIsA400NotAGuess() throws Exception {
    for (String[] wire :
        new String[][] {{"x"}, {"1-"}, {"0"}, {"1-99999999999"}, {"3-1"}, {"1", "2"}}) {
      HttpResponse<String> r = get(today, wire);
      assertThat(r.statusCode()).as(String.join(",", wire)).isEqualTo(400);
      assertThat(error(r).getString("code")).isEqualTo("malformed_wire_version");
    }
    assertThat(
            registry
                .get("umbra.http.wire_refused")
                .tag("service", "today")
                .tag("upgrade", "malformed")
                .counter()
                .count())
        .isGreaterThanOrEqualTo(6);
  }

  @Test
  void aWebSocketUpgradeIsNegotiatedTheSameWayAndARefusalCarriesTheServicesRange()
      throws Exception {
    WebSocketClient ws = vertx.createWebSocketClient();
    try {
      String said =
          ws.connect(options(today, "1-2"))
              .compose(
                  s -> {
                    io.vertx.core.Promise<String> first = io.vertx.core.Promise.promise();
                    s.textMessageHandler(first::tryComplete);
                    return first.future().eventually(s::close);
                  })
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(said).isEqualTo("wire 1");
      ExecutionException refused =
          org.assertj.core.api.Assertions.catchThrowableOfType(
              ExecutionException.class,
              () ->
                  ws.connect(options(newer, "1"))
                      .toCompletionStage()
                      .toCompletableFuture()
                      .get(30, TimeUnit.SECONDS));
      assertThat(refused.getCause()).isInstanceOf(UpgradeRejectedException.class);
      UpgradeRejectedException u = (UpgradeRejectedException) refused.getCause();
      assertThat(u.getStatus()).isEqualTo(426);
      assertThat(u.getHeaders().get(WireVersions.HEADER)).isEqualTo("2-3");
      assertThat(
              WireVersions.refusal(new Range(1, 1), Optional.of(u.getHeaders().get("umbra-wire"))))
          .contains("upgrade the client");
    } finally {
      ws.close();
    }
  }

  private static WebSocketConnectOptions options(int port, String wire) {
    return new WebSocketConnectOptions()
        .setHost("127.0.0.1")
        .setPort(port)
        .setURI("/v1/socket")
        .addHeader(WireVersions.HEADER, wire);
  }
}
