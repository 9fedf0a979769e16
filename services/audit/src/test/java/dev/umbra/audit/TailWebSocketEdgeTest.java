package dev.umbra.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.kit.testing.RawWebSocket;
import dev.umbra.kit.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The audit tail's WebSocket against the probe of issue 13 (findings 1, 9, 10): a freshly started
 * service that must fetch the control plane's key set for the first token, a deflate bomb, an
 * oversized message. Real service, real sockets, a real HTTP server publishing the key set.
 */
class TailWebSocketEdgeTest {
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private Vertx vertx;
  private TestPostgres pg;
  private AuditFixture f;
  private HttpServer controlPlane;
  private final UUID workspace = UUID.randomUUID();

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    pg = TestPostgres.createDatabase();
    AtomicReference<AuditFixture> fixture = new AtomicReference<>();
    controlPlane =
        AuditFixture.await(
            vertx
                .createHttpServer()
                .requestHandler(
                    req -> {
                      if (req.path().equals(SessionTokens.JWKS_PATH)) {
                        req.response()
                            .putHeader("content-type", "application/json")
                            .end(fixture.get().jwks());
                      } else {
                        req.response().setStatusCode(404).end();
                      }
                    })
                .listen(0, "127.0.0.1"));
    f =
        new AuditFixture(
            vertx,
            pg,
            Map.of("UMBRA_CONTROL_PLANE_URL", "http://127.0.0.1:" + controlPlane.actualPort()));
    fixture.set(f);
    f.startFetchingKeys();
  }

  @AfterEach
  void tearDown() throws Exception {
    f.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    pg.close();
  }

  private RawWebSocket tail(Map<String, String> extra) throws Exception {
    Map<String, String> headers = new java.util.LinkedHashMap<>(extra);
    headers.put("Authorization", "Bearer " + f.adminOf(workspace));
    return RawWebSocket.connect(
        f.service.actualPort(),
        "/v1/workspaces/" + workspace + "/audit/tail",
        headers,
        Duration.ofSeconds(10));
  }

  @Test
  void theFirstTailUpgradeAfterAStartCompletesWhileTheKeySetIsFetched() throws Exception {
    long t0 = System.nanoTime();
    try (RawWebSocket ws = tail(Map.of())) {
      assertThat(ws.upgrade().status()).as(ws.upgrade().body()).isEqualTo(101);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    }
  }

  @Test
  void aDeflateBombIsNeitherNegotiatedNorInflatedAndHealthzStaysFast() throws Exception {
    byte[] bomb = RawWebSocket.deflateBomb(64 << 20);
    for (int i = 0; i < 20; i++) {
      http.send(
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + f.service.actualPort() + "/healthz"))
              .build(),
          HttpResponse.BodyHandlers.discarding());
    }
    AtomicBoolean bombing = new AtomicBoolean(true);
    List<Long> probes = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread prober =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (bombing.get()) {
                    long t = System.nanoTime();
                    try {
                      HttpResponse<Void> r =
                          http.send(
                              HttpRequest.newBuilder(
                                      URI.create(
                                          "http://127.0.0.1:"
                                              + f.service.actualPort()
                                              + "/healthz"))
                                  .timeout(Duration.ofSeconds(10))
                                  .build(),
                              HttpResponse.BodyHandlers.discarding());
                      probes.add(
                          r.statusCode() == 200
                              ? (System.nanoTime() - t) / 1_000_000
                              : Long.MAX_VALUE);
                    } catch (Exception e) {
                      probes.add(Long.MAX_VALUE);
                    }
                  }
                });
    try {
      for (int round = 0; round < 100 && (round < 3 || probes.size() < 30); round++) {
        try (RawWebSocket ws =
            tail(
                Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))) {
          assertThat(ws.upgrade().status()).isEqualTo(101);
          assertThat(ws.upgrade().header("sec-websocket-extensions")).isEmpty();
          ws.send(2, true, bomb);
          Optional<RawWebSocket.Frame> close = ws.awaitClose();
          close.ifPresent(c -> assertThat(c.closeCode()).isEqualTo(1002));
        }
      }
    } finally {
      bombing.set(false);
      prober.join(30_000);
    }
    List<Long> sorted = new ArrayList<>(probes);
    sorted.sort(null);
    assertThat(sorted.get(sorted.size() / 2))
        .as("median /healthz during bombs (ms): " + sorted)
        .isLessThan(50L);
    assertThat(sorted.get(sorted.size() - 1))
        .as("slowest /healthz during bombs (ms)")
        .isLessThan(500L);
  }

  @Test
  void anOversizedMessageClosesTheTailWith1009() throws Exception {
    try (RawWebSocket ws = tail(Map.of())) {
      assertThat(ws.upgrade().status()).isEqualTo(101);
      ws.send(2, false, new byte[UmbraService.DEFAULT_MAX_WEBSOCKET_BYTES + 1]);
      Optional<RawWebSocket.Frame> close = ws.awaitClose();
      assertThat(close).as("a close frame, not a bare TCP close").isPresent();
      assertThat(close.get().closeCode()).isEqualTo(1009);
      assertThat(close.get().closeReason()).isEqualTo("message_too_big");
    }
  }
}
