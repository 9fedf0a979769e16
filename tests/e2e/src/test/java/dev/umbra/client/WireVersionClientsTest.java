package dev.umbra.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.umbra.client.channel.RelayWebSocket;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.http.WireOffer;
import dev.umbra.kit.http.WireNegotiation;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.WireVersionServer;
import dev.umbra.proto.api.WireVersions;
import dev.umbra.proto.api.WireVersions.Range;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The clients' side of the wire-version negotiation (docs/deploy.md, "Upgrades"): this build's API
 * client, relay client and WebSocket clients offer their versions, are served by a service that
 * shares one, and, against a service that speaks only newer versions (or only older ones), end with
 * one line naming both sides' versions and the side to upgrade — never a bare status or a silent
 * close.
 */
class WireVersionClientsTest {
  static Vertx vertx;
  static int newerService;
  static int sameService;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    newerService = listen(new Range(2, 3));
    sameService = listen(WireVersions.THIS_BUILD);
  }

  /** A service speaking {@code speaks}: an API route and WebSocket routes, as the real ones. */
  private static int listen(Range speaks) throws Exception {
    Router router = Router.router(vertx);
    router.route().handler(WireNegotiation.handler(speaks, Metrics.newRegistry(), "svc"));
    return WireVersionServer.listen(vertx, router);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void theApiClientIsServedByAServiceSpeakingItsVersion() {
    JsonObject r = new JsonHttp().get(uri(sameService, "http", "/v1/thing"), null);
    assertThat(r.getInteger("wire")).isEqualTo(WireVersions.THIS_BUILD.newest());
  }

  @Test
  void theApiClientAgainstANewerServiceSaysBothVersionsAndToUpgradeTheClient() {
    ApiError e =
        catchThrowableOfType(
            ApiError.class, () -> new JsonHttp().get(uri(newerService, "http", "/v1/thing"), null));
    assertThat(e.status()).isEqualTo(426);
    assertThat(e.code()).isEqualTo("unsupported_wire_version");
    assertThat(e.describe())
        .contains("wire versions 2 to 3", "the client version 1", "upgrade the client");
  }

  @Test
  void theRelayClientAgainstANewerServiceSaysBothVersionsInsteadOfABareRefusal() {
    RelayWebSocket.Refused e =
        catchThrowableOfType(
            RelayWebSocket.Refused.class,
            () -> RelayWebSocket.connect(uri(newerService, "ws", "/v1/relay"), "t", SECONDS_30));
    assertThat(e.status()).isEqualTo(426);
    assertThat(e.reason()).isEqualTo(RelayWebSocket.Reason.UPGRADE_REFUSED);
    assertThat(e.getMessage())
        .isEqualTo(
            "the relay refused the connection: this service speaks wire versions 2 to 3, the"
                + " client version 1: upgrade the client (umbra)");
  }

  @Test
  void theRelayClientUpgradesWithAServiceSpeakingItsVersion() throws Exception {
    try (RelayWebSocket ws =
        RelayWebSocket.connect(uri(sameService, "ws", "/v1/relay"), "t", SECONDS_30)) {
      assertThat(ws).isNotNull();
    }
  }

  @Test
  void theDaemonsAndTtyWebSocketsOfferTheirVersionAndWordARefusalTheSameWay() throws Exception {
    var client = vertx.createWebSocketClient();
    try {
      WebSocketConnectOptions o =
          WireOffer.offer(
              new WebSocketConnectOptions()
                  .setHost("127.0.0.1")
                  .setPort(newerService)
                  .setURI("/v1/relay"));
      assertThat(o.getHeaders().get(WireVersions.HEADER))
          .isEqualTo(WireVersions.THIS_BUILD.header());
      ExecutionException e =
          catchThrowableOfType(
              ExecutionException.class,
              () -> client.connect(o).toCompletionStage().toCompletableFuture().get(30, SEC));
      assertThat(WireOffer.describe(e.getCause()))
          .isEqualTo(
              "this service speaks wire versions 2 to 3, the client version 1: upgrade the"
                  + " client (umbra)");
      // anything else is said as it was
      assertThat(WireOffer.describe(new IllegalStateException("connection refused")))
          .isEqualTo("connection refused");
    } finally {
      client.close();
    }
  }

  static final Duration SECONDS_30 = Duration.ofSeconds(30);
  static final TimeUnit SEC = TimeUnit.SECONDS;

  private static URI uri(int port, String scheme, String path) {
    return URI.create(scheme + "://127.0.0.1:" + port + path);
  }
}
