package dev.umbra.kit.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.http.WebSocketInternal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Servers that speak first: one sends {@code hello} with the upgrade, one closes with it. Handlers
 * set on the socket {@code connect} completes with may miss the hello (under load they did:
 * MessageDeliveryTest lost its {@code ready} 2 runs of 2 with the CPUs busy); {@link
 * TestSockets#open} never does, and hands back a socket closed at its upgrade as closed, not as a
 * failure.
 */
class TestSocketsTest {
  static final Duration WITHIN = Duration.ofSeconds(20);
  static final int SOCKETS = 50;

  Vertx vertx;
  HttpServer server;
  WebSocketClient client;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    server =
        Futures.await(
            vertx
                .createHttpServer()
                .webSocketHandler(
                    ws -> {
                      if (ws.path().equals("/hello")) {
                        ws.writeTextMessage("hello");
                      } else {
                        // a close frame and the end of the connection right behind the 101
                        ws.close((short) 4000);
                        ((WebSocketInternal) ws).channelHandlerContext().close();
                      }
                    })
                .listen(0, "127.0.0.1"),
            WITHIN);
    client = vertx.createWebSocketClient();
  }

  @AfterEach
  void stop() throws Exception {
    Futures.await(vertx.close(), WITHIN);
  }

  WebSocketConnectOptions options(String path) {
    return new WebSocketConnectOptions()
        .setHost("127.0.0.1")
        .setPort(server.actualPort())
        .setURI(path);
  }

  @Test
  void handlersSetBeforeTheUpgradeGetTheFirstFrame() throws Exception {
    for (int i = 0; i < SOCKETS; i++) {
      List<String> got = new CopyOnWriteArrayList<>();
      WebSocket ws =
          TestSockets.open(client, options("/hello"), s -> s.textMessageHandler(got::add), WITHIN);
      Eventually.await("socket " + i + " got hello", WITHIN, () -> !got.isEmpty());
      assertThat(got).containsExactly("hello");
      Futures.await(ws.close(), WITHIN);
    }
  }

  @Test
  void aSocketClosedWithItsUpgradeComesBackClosedWithItsCode() throws Exception {
    for (int i = 0; i < SOCKETS; i++) {
      AtomicInteger heard = new AtomicInteger();
      WebSocket ws =
          TestSockets.open(
              client, options("/close"), s -> {}, closed -> heard.incrementAndGet(), WITHIN);
      // closed at the upgrade (Vert.x calls no handler then) or after it: heard once either way
      Eventually.await("socket " + i + " closed", WITHIN, () -> heard.get() > 0);
      assertThat(ws.isClosed()).isTrue();
      assertThat(ws.closeStatusCode()).isEqualTo((short) 4000);
      assertThat(Eventually.holdsWithin(Duration.ofMillis(50), () -> heard.get() > 1)).isFalse();
    }
  }
}
