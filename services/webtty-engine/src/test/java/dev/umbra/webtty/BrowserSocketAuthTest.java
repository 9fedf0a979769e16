package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.webtty.browser.BrowserSocketAuth;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The browser app's way onto the client WebSocket (docs/web.md, "Terminal"): the session token in a
 * subprotocol, accepted only from the control plane's origin, the token never echoed back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BrowserSocketAuthTest {
  static final String APP_ORIGIN = "http://app.umbra.test:8080";

  Vertx vertx;
  EngineHarness h;

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 1, Map.of("UMBRA_CONTROL_PLANE_URL", APP_ORIGIN + "/"));
  }

  @AfterAll
  void stop() throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  WebSocket connect(String path, String origin, List<String> protocols) throws Exception {
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setHost("127.0.0.1")
            .setPort(h.port(0))
            .setURI(path)
            .setAllowOriginHeader(origin != null)
            .setSubProtocols(protocols);
    if (origin != null) {
      o.addHeader("Origin", origin);
    }
    WebSocketClient client = vertx.createWebSocketClient();
    return client.connect(o).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  List<String> offer(String token) {
    return List.of(BrowserSocketAuth.PROTOCOL, BrowserSocketAuth.BEARER_PREFIX + token);
  }

  @Test
  void thePagesOriginGetsASocketForTheTokenItOffersAndOnlyTheWireProtocolIsEchoed()
      throws Exception {
    String token = h.tokens.member(UUID.randomUUID(), "acct-web", "member");
    WebSocket ws = connect(WebTtyWire.CLIENT_PATH, APP_ORIGIN, offer(token));
    assertThat(ws.subProtocol()).isEqualTo(BrowserSocketAuth.PROTOCOL);
    // the connection is a client's: a session frame before OPEN is answered, not ignored
    java.util.concurrent.CompletableFuture<WebTtyFrame> answer =
        new java.util.concurrent.CompletableFuture<>();
    ws.binaryMessageHandler(
        b -> {
          try {
            answer.complete(WebTtyFrame.parseFrom(b.getBytes()));
          } catch (Exception e) {
            answer.completeExceptionally(e);
          }
        });
    ws.writeBinaryMessage(
        Buffer.buffer(
            WebTtyFrame.newBuilder()
                .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST)
                .setSessionId("none")
                .build()
                .toByteArray()));
    assertThat(answer.get(5, TimeUnit.SECONDS).getType())
        .isEqualTo(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR);
    ws.close();
  }

  @Test
  void aTokenOfferedFromAnotherOriginOrWithoutOneOrOnTheServerPathGetsNoSocket() {
    String token = h.tokens.member(UUID.randomUUID(), "acct-web", "member");
    String machine = h.tokens.machine(UUID.randomUUID(), "m-1");
    assertThat(status(WebTtyWire.CLIENT_PATH, "https://evil.example", offer(token))).isEqualTo(403);
    assertThat(status(WebTtyWire.CLIENT_PATH, null, offer(token))).isEqualTo(403);
    assertThat(status(WebTtyWire.SERVER_PATH, APP_ORIGIN, offer(machine))).isEqualTo(403);
    assertThat(status(WebTtyWire.CLIENT_PATH, APP_ORIGIN, offer("not-a-token"))).isEqualTo(401);
    assertThat(status(WebTtyWire.CLIENT_PATH, APP_ORIGIN, List.of(BrowserSocketAuth.PROTOCOL)))
        .isEqualTo(401);
  }

  @Test
  void onlyThePagesOriginMayReadTheRecordingsRoutesAndNoCookieIsEverAllowed() throws Exception {
    String token = h.tokens.member(UUID.randomUUID(), "acct-web", "member");
    String one = WebTtyWire.RECORDINGS_PATH + "/01JAAAAAAAAAAAAAAAAAAAAAAA";
    for (String path : List.of(WebTtyWire.RECORDINGS_PATH, one, WebTtyWire.SESSIONS_PATH)) {
      HttpClientResponse preflight = http(HttpMethod.OPTIONS, path, APP_ORIGIN, null, true);
      assertThat(preflight.statusCode()).as(path).isEqualTo(204);
      assertThat(preflight.getHeader("access-control-allow-origin")).isEqualTo(APP_ORIGIN);
      assertThat(preflight.getHeader("access-control-allow-headers")).contains("authorization");
      assertThat(preflight.getHeader("access-control-allow-credentials")).isNull();
    }
    HttpClientResponse list =
        http(HttpMethod.GET, WebTtyWire.RECORDINGS_PATH, APP_ORIGIN, token, false);
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.getHeader("access-control-allow-origin")).isEqualTo(APP_ORIGIN);
    assertThat(list.getHeader("access-control-allow-credentials")).isNull();
    // the live sessions (the page's list, as `umbra tty sessions` reads it)
    HttpClientResponse live =
        http(HttpMethod.GET, WebTtyWire.SESSIONS_PATH, APP_ORIGIN, token, false);
    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(live.getHeader("access-control-allow-origin")).isEqualTo(APP_ORIGIN);
    assertThat(live.getHeader("access-control-allow-credentials")).isNull();
    HttpClientResponse missing = http(HttpMethod.GET, one, APP_ORIGIN, token, false);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.getHeader("access-control-allow-origin")).isEqualTo(APP_ORIGIN);
    // no token: still refused (the preflight's answer is not a way around authentication)
    assertThat(http(HttpMethod.GET, one, APP_ORIGIN, null, false).statusCode()).isEqualTo(401);
    for (String other : List.of("https://evil.example", "null", APP_ORIGIN + ".evil.example")) {
      for (boolean pre : List.of(true, false)) {
        HttpClientResponse r =
            http(
                pre ? HttpMethod.OPTIONS : HttpMethod.GET,
                WebTtyWire.RECORDINGS_PATH,
                other,
                token,
                pre);
        assertThat(r.getHeader("access-control-allow-origin")).as(other).isNull();
      }
    }
    // the CLI (no Origin) reads as before, without CORS headers
    HttpClientResponse cli = http(HttpMethod.GET, WebTtyWire.RECORDINGS_PATH, null, token, false);
    assertThat(cli.statusCode()).isEqualTo(200);
    assertThat(cli.getHeader("access-control-allow-origin")).isNull();
  }

  HttpClientResponse http(
      HttpMethod method, String path, String origin, String token, boolean preflight)
      throws Exception {
    HttpClient client = vertx.createHttpClient();
    try {
      return client
          .request(method, h.port(0), "127.0.0.1", path)
          .compose(
              req -> {
                if (origin != null) {
                  req.putHeader("origin", origin);
                }
                if (token != null) {
                  req.putHeader("authorization", "Bearer " + token);
                }
                if (preflight) {
                  req.putHeader("access-control-request-method", "GET")
                      .putHeader("access-control-request-headers", "authorization");
                }
                return req.send().compose(r -> r.body().map(b -> r));
              })
          .toCompletionStage()
          .toCompletableFuture()
          .get(5, TimeUnit.SECONDS);
    } finally {
      client.close();
    }
  }

  int status(String path, String origin, List<String> protocols) {
    Throwable t =
        org.assertj.core.api.Assertions.catchThrowable(() -> connect(path, origin, protocols));
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause()).isInstanceOf(UpgradeRejectedException.class);
    return ((UpgradeRejectedException) t.getCause()).getStatus();
  }
}
