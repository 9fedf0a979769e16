package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.kit.bus.InProcessBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.RawWebSocket;
import dev.umbra.kit.testing.TestServices;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The network edge every service gets from the kit, against a real server on a real socket:
 * timeouts, connection caps, compressed bodies, the admin endpoint's failure budget, quiet client
 * disconnects, and WebSocket upgrades after an asynchronous check.
 */
class NetEdgeTest {
  private static final String ADMIN = "admin-token-for-tests-0123456789";
  private static final String WS_PATH = "/ws";
  private static final int WS_MAX = 4096;

  /** A service with a body route and a WebSocket behind a slow (asynchronous) check. */
  static final class Edgy extends UmbraService {
    Edgy(ServiceRuntime runtime) {
      super(runtime);
    }

    @Override
    protected io.vertx.core.http.HttpServerOptions httpServerOptions() {
      // a service that asks for compression: the kit must turn it off anyway
      return new io.vertx.core.http.HttpServerOptions()
          .setPerMessageWebSocketCompressionSupported(true)
          .setDecompressionSupported(true)
          .setMaxWebSocketFrameSize(WS_MAX)
          .setMaxWebSocketMessageSize(WS_MAX);
    }

    @Override
    protected Future<Void> mount(Router router) {
      router
          .post("/echo")
          .handler(
              ctx ->
                  ServiceHttp.json(
                      ctx,
                      200,
                      new io.vertx.core.json.JsonObject().put("bytes", ctx.body().length())));
      router
          .get(WS_PATH)
          .handler(
              ctx ->
                  WebSockets.upgradeAfter(
                      ctx,
                      () -> vertx.timer(300, TimeUnit.MILLISECONDS).map("ok"),
                      (ws, v) -> ws.handler(ws::write),
                      e -> ApiException.unauthorized("no")));
      router
          .get("/ws-refused")
          .handler(
              ctx ->
                  WebSockets.upgradeAfter(
                      ctx,
                      () ->
                          vertx
                              .timer(100, TimeUnit.MILLISECONDS)
                              .compose(
                                  x ->
                                      Future.<String>failedFuture(new IllegalStateException("no"))),
                      (ws, v) -> ws.close(),
                      e -> ApiException.unauthorized("not you")));
      return Future.succeededFuture();
    }
  }

  @TempDir Path home;
  private Vertx vertx;
  private Edgy service;
  private PrometheusMeterRegistry registry;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    logged.start();
    root().addAppender(logged);
  }

  /** Every attack here is unauthenticated: none may leave an ERROR line in the log. */
  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    root().detachAppender(logged);
    assertThat(logged.list)
        .filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
        .extracting(ILoggingEvent::getFormattedMessage)
        .isEmpty();
  }

  private int start(Map<String, String> env) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.put("UMBRA_ADMIN_TOKEN", ADMIN);
    ServiceConfig cfg = TestServices.config(ServiceName.AUDIT, null, "edge", home, all);
    registry = Metrics.newRegistry();
    service =
        TestServices.deploy(
                vertx, cfg, new InProcessBus(vertx), registry, Clock.systemUTC(), Edgy::new)
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    return service.actualPort();
  }

  private static void await(String what, Duration within, BooleanSupplier condition) {
    Eventually.await(what, within, condition::getAsBoolean);
  }

  /** Blocks until the server closes the socket; the time it took. */
  private static Duration timeUntilClosed(Socket s, Duration atMost) throws IOException {
    long t0 = System.nanoTime();
    s.setSoTimeout((int) atMost.toMillis());
    InputStream in = s.getInputStream();
    try {
      while (in.read() >= 0) {
        // drain whatever the server says before it closes
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("still open after " + atMost);
    } catch (IOException reset) {
      // closed with a reset: closed all the same
    }
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  private static String get(Socket s, String path) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(
        ("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    s.setSoTimeout(5000);
    InputStream in = s.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed");
      }
      head.append((char) c);
    }
    int len = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        len = Integer.parseInt(line.substring(15).trim());
      }
    }
    in.readNBytes(len);
    return head.toString().split("\r\n")[0];
  }

  private double metric(String name, String reason) {
    var c = registry.find(name).tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void closesAnIdleConnectionAfterTheIdleTimeout() throws Exception {
    int port =
        start(Map.of(EdgeLimits.IDLE_TIMEOUT_ENV, "400", EdgeLimits.REQUEST_TIMEOUT_ENV, "20000"));
    try (Socket s = new Socket("127.0.0.1", port)) {
      Duration took = timeUntilClosed(s, Duration.ofSeconds(10));
      assertThat(took)
          .isGreaterThanOrEqualTo(Duration.ofMillis(300))
          .isLessThan(Duration.ofSeconds(3));
    }
    // and a kept-alive connection that has been answered is idle again
    try (Socket s = new Socket("127.0.0.1", port)) {
      assertThat(get(s, "/healthz")).contains("200");
      assertThat(timeUntilClosed(s, Duration.ofSeconds(10))).isLessThan(Duration.ofSeconds(3));
    }
    assertThat(metric("umbra.http.connections.timed_out", "idle_timeout")).isEqualTo(2);
  }

  @Test
  void keepsAnAnsweredConnectionForTheIdleTimeoutNotTheShorterRequestTimeout() throws Exception {
    // a client reuses an answered connection after a pause; closing it at the request timeout
    // raced that reuse (its request failed as "connection closed", or hung)
    int port =
        start(Map.of(EdgeLimits.IDLE_TIMEOUT_ENV, "3000", EdgeLimits.REQUEST_TIMEOUT_ENV, "300"));
    try (Socket s = new Socket("127.0.0.1", port)) {
      assertThat(get(s, "/healthz")).contains("200");
      for (int i = 0; i < 3; i++) {
        long answered = System.nanoTime();
        // past the request timeout and the sweep after it, well inside the idle timeout
        await(
            "a pause longer than the request timeout",
            Duration.ofSeconds(5),
            () -> System.nanoTime() - answered > Duration.ofMillis(900).toNanos());
        assertThat(get(s, "/healthz")).as("reused after a pause").contains("200");
      }
      assertThat(timeUntilClosed(s, Duration.ofSeconds(10)))
          .as("closed once idle for the idle timeout")
          .isGreaterThanOrEqualTo(Duration.ofMillis(2500));
    }
    assertThat(metric("umbra.http.connections.timed_out", "idle_timeout")).isEqualTo(1);
  }

  @Test
  void closesASlowlorisConnectionAfterTheRequestTimeoutHoweverOftenItSendsAByte() throws Exception {
    int port =
        start(Map.of(EdgeLimits.IDLE_TIMEOUT_ENV, "20000", EdgeLimits.REQUEST_TIMEOUT_ENV, "600"));
    byte[] head =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
            .getBytes(StandardCharsets.ISO_8859_1);
    try (Socket s = new Socket("127.0.0.1", port)) {
      long t0 = System.nanoTime();
      boolean closed = false;
      for (int i = 0; i < head.length && !closed; i++) {
        try {
          s.getOutputStream().write(head[i]);
          s.getOutputStream().flush();
        } catch (IOException e) {
          closed = true;
        }
        Thread.sleep(50); // the trickle itself: one byte every 50 ms, far inside any idle timeout
        s.setSoTimeout(1);
        try {
          closed = s.getInputStream().read() < 0;
        } catch (SocketTimeoutException still) {
          // open
        } catch (IOException reset) {
          closed = true;
        }
      }
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      assertThat(closed).as("closed before the head was complete").isTrue();
      assertThat(took).isLessThan(Duration.ofSeconds(3));
    }
    // a slow body after a complete head is bounded the same way
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.getOutputStream()
          .write(
              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"
                  .getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      assertThat(timeUntilClosed(s, Duration.ofSeconds(10))).isLessThan(Duration.ofSeconds(3));
    }
    assertThat(metric("umbra.http.connections.timed_out", "request_timeout"))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void refusesConnectionsBeyondThePerAddressCapWhileTheOpenOnesKeepWorking() throws Exception {
    int port = start(Map.of(EdgeLimits.MAX_CONNECTIONS_PER_IP_ENV, "3"));
    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket s = new Socket("127.0.0.1", port);
        held.add(s);
        assertThat(get(s, "/healthz")).contains("200");
      }
      try (Socket extra = new Socket("127.0.0.1", port)) {
        assertThat(timeUntilClosed(extra, Duration.ofSeconds(5))).isLessThan(Duration.ofSeconds(2));
      }
      for (Socket s : held) {
        assertThat(get(s, "/healthz")).contains("200");
      }
      assertThat(metric("umbra.http.connections.refused", "ip_cap")).isEqualTo(1);
      // one closes, one more fits
      held.remove(0).close();
      await(
          "the closed connection is forgotten",
          Duration.ofSeconds(5),
          () -> service.connectionGuard().openConnections() == 2);
      Socket again = new Socket("127.0.0.1", port);
      held.add(again);
      assertThat(get(again, "/healthz")).contains("200");
    } finally {
      for (Socket s : held) {
        s.close();
      }
    }
  }

  @Test
  void refusesConnectionsBeyondTheGlobalCapWhileTheOpenOnesKeepWorking() throws Exception {
    int port =
        start(
            Map.of(
                EdgeLimits.MAX_CONNECTIONS_ENV, "2", EdgeLimits.MAX_CONNECTIONS_PER_IP_ENV, "100"));
    try (Socket a = new Socket("127.0.0.1", port);
        Socket b = new Socket("127.0.0.1", port)) {
      assertThat(get(a, "/healthz")).contains("200");
      assertThat(get(b, "/healthz")).contains("200");
      try (Socket extra = new Socket("127.0.0.1", port)) {
        assertThat(timeUntilClosed(extra, Duration.ofSeconds(5))).isLessThan(Duration.ofSeconds(2));
      }
      assertThat(get(a, "/healthz")).contains("200");
      assertThat(get(b, "/healthz")).contains("200");
      assertThat(metric("umbra.http.connections.refused", "global_cap")).isEqualTo(1);
    }
  }

  @Test
  void aClientThatDisconnectsMidBodyLeavesNoErrorInTheLog() throws Exception {
    int port = start(Map.of());
    for (int i = 1; i <= 5; i++) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.getOutputStream()
            .write(
                ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"a\":\"")
                    .getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
      }
      int expected = i;
      await(
          "disconnect " + i + " counted",
          Duration.ofSeconds(5),
          () ->
              registry.find("umbra.http.client_disconnects").counter() != null
                  && registry.find("umbra.http.client_disconnects").counter().count() >= expected);
    }
    assertThat(logged.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).isEmpty();
  }

  @Test
  void refusesACompressedRequestBodyWith415WithoutInflatingIt() throws Exception {
    int port = start(Map.of());
    for (String encoding : new String[] {"gzip", "deflate", "br", "x-gzip, identity"}) {
      byte[] bomb = RawWebSocket.deflateBomb(8 << 20);
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/echo"))
                  .header("content-encoding", encoding)
                  .header("content-type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(bomb))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(encoding).isEqualTo(415);
      assertThat(r.body()).contains("unsupported_content_encoding");
    }
    HttpResponse<String> plain =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/echo"))
                .header("content-encoding", "identity")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(plain.statusCode()).isEqualTo(200);
  }

  @Test
  void limitsFailedAdminTokenAttemptsPerClientWith429() throws Exception {
    int port = start(Map.of(EdgeLimits.ADMIN_FAILURES_ENV, "5"));
    List<Integer> codes = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      codes.add(
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/logs"))
                      .header("authorization", "Bearer wrong-token-" + i + "-0123456789")
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode());
    }
    assertThat(codes).containsExactly(401, 401, 401, 401, 401, 429, 429, 429);
    HttpResponse<String> right =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/logs"))
                .header("authorization", "Bearer " + ADMIN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(right.statusCode())
        .as("the right token is refused too once the budget is spent")
        .isEqualTo(429);
    assertThat(right.headers().firstValue("retry-after")).isPresent();
  }

  /**
   * Vert.x never calls an upgraded connection's close handler: before the guard asked the WebSocket
   * itself, each WebSocket stayed counted after it closed, and an address was refused for good
   * after its 200th (CI: a CLI polling the relay in a loop was refused mid-test).
   */
  @Test
  void closedWebSocketsGiveBackTheirPlaceUnderThePerAddressCap() throws Exception {
    int port = start(Map.of(EdgeLimits.MAX_CONNECTIONS_PER_IP_ENV, "3"));
    for (int i = 0; i < 12; i++) {
      try (RawWebSocket ws = RawWebSocket.connect(port, WS_PATH, Map.of(), Duration.ofSeconds(5))) {
        assertThat(ws.upgrade().status()).as("WebSocket %d", i).isEqualTo(101);
        if (i % 2 == 0) {
          // every other one says goodbye with a close frame; the rest just drop the socket
          ws.send(8, false, new byte[] {0x03, (byte) 0xe8});
          assertThat(ws.awaitClose()).isPresent();
        }
      }
    }
    await(
        "the sweep forgets the closed WebSockets",
        Duration.ofSeconds(5),
        () -> service.connectionGuard().openConnections() == 0);
    assertThat(metric("umbra.http.connections.refused", "ip_cap")).isZero();
    // while the cap still holds for WebSockets that are open
    List<RawWebSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        held.add(RawWebSocket.connect(port, WS_PATH, Map.of(), Duration.ofSeconds(5)));
        assertThat(held.get(i).upgrade().status()).isEqualTo(101);
      }
      try (Socket extra = new Socket("127.0.0.1", port)) {
        assertThat(timeUntilClosed(extra, Duration.ofSeconds(5))).isLessThan(Duration.ofSeconds(2));
      }
      assertThat(metric("umbra.http.connections.refused", "ip_cap")).isEqualTo(1);
    } finally {
      for (RawWebSocket ws : held) {
        ws.close();
      }
    }
  }

  @Test
  void theFirstWebSocketUpgradeAfterAnAsynchronousCheckCompletes() throws Exception {
    int port = start(Map.of());
    long t0 = System.nanoTime();
    try (RawWebSocket ws = RawWebSocket.connect(port, WS_PATH, Map.of(), Duration.ofSeconds(5))) {
      assertThat(ws.upgrade().status()).isEqualTo(101);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
      ws.send(2, false, new byte[] {1, 2, 3});
      assertThat(ws.read())
          .hasValueSatisfying(f -> assertThat(f.payload()).containsExactly(1, 2, 3));
    }
  }

  @Test
  void aRefusedUpgradeGetsItsErrorAndLeavesTheConnectionUsable() throws Exception {
    int port = start(Map.of());
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.getOutputStream()
          .write(
              ("GET /ws-refused HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      s.setSoTimeout(5000);
      InputStream in = s.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        head.append((char) in.read());
      }
      assertThat(head.toString()).startsWith("HTTP/1.1 401");
      int len = 0;
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase().startsWith("content-length:")) {
          len = Integer.parseInt(line.substring(15).trim());
        }
      }
      in.readNBytes(len);
      assertThat(get(s, "/healthz")).contains("200");
    }
  }

  @Test
  void neitherNegotiatesNorInflatesPermessageDeflateEvenWhenTheServiceAskedForIt()
      throws Exception {
    int port = start(Map.of());
    try (RawWebSocket ws =
        RawWebSocket.connect(
            port,
            WS_PATH,
            Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
            Duration.ofSeconds(5))) {
      assertThat(ws.upgrade().status()).isEqualTo(101);
      assertThat(ws.upgrade().header("sec-websocket-extensions")).isEmpty();
      ws.send(2, true, RawWebSocket.deflateBomb(64 << 20));
      Optional<RawWebSocket.Frame> close = ws.awaitClose();
      // refused as a protocol error (RSV1 without the extension) or as too big: never inflated
      close.ifPresent(f -> assertThat(f.closeCode()).isIn(1002, 1009));
    }
    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
  }

  @Test
  void closesAnOversizedWebSocketFrameWith1009() throws Exception {
    int port = start(Map.of());
    try (RawWebSocket ws = RawWebSocket.connect(port, WS_PATH, Map.of(), Duration.ofSeconds(5))) {
      assertThat(ws.upgrade().status()).isEqualTo(101);
      ws.send(2, false, new byte[WS_MAX + 1]);
      Optional<RawWebSocket.Frame> close = ws.awaitClose();
      assertThat(close).as("a close frame, not a bare TCP close").isPresent();
      assertThat(close.get().closeCode()).isEqualTo(1009);
    }
  }
}
