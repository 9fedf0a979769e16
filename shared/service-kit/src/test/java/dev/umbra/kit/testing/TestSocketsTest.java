package dev.umbra.kit.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A server that speaks first: it sends {@code hello} with the upgrade, then closes. Handlers set on
 * the socket {@code connect} completes with may miss it (under load they did: MessageDeliveryTest
 * lost its {@code ready} 2 runs of 2 with the CPUs busy); {@link TestSockets#open} never does.
 */
class TestSocketsTest {
  static final Duration WITHIN = Duration.ofSeconds(20);

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
                    ws -> ws.writeTextMessage("hello").onComplete(x -> ws.close((short) 4000)))
                .listen(0, "127.0.0.1"),
            WITHIN);
    client = vertx.createWebSocketClient();
  }

  @AfterEach
  void stop() throws Exception {
    Futures.await(vertx.close(), WITHIN);
  }

  WebSocketConnectOptions options() {
    return new WebSocketConnectOptions()
        .setHost("127.0.0.1")
        .setPort(server.actualPort())
        .setURI("/");
  }

  @Test
  void handlersSetBeforeTheUpgradeGetTheFirstFrame() throws Exception {
    for (int i = 0; i < 50; i++) {
      List<String> got = new CopyOnWriteArrayList<>();
      WebSocket ws =
          TestSockets.open(client, options(), s -> s.textMessageHandler(got::add), WITHIN);
      Eventually.await("closed", WITHIN, ws::isClosed);
      assertThat(got).as("socket %d", i).containsExactly("hello");
      assertThat(ws.closeStatusCode()).isEqualTo((short) 4000);
    }
  }
}
