package dev.umbra.client.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Live delivery's fallbacks: polling while the socket is down, wake detection, ready + push. */
class LiveReceiverTest {
  final List<String> statuses = new CopyOnWriteArrayList<>();
  final List<JsonObject> pushed = new CopyOnWriteArrayList<>();
  final AtomicInteger fetches = new AtomicInteger();

  LiveReceiver.Listener listener() {
    return new LiveReceiver.Listener() {
      @Override
      public void fetch() {
        fetches.incrementAndGet();
      }

      @Override
      public void message(JsonObject message) {
        pushed.add(message);
      }

      @Override
      public void status(String status) {
        statuses.add(status);
      }
    };
  }

  static URI closedPort() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return URI.create(
        "ws://127.0.0.1:" + port + "/v1/workspaces/" + UUID.randomUUID() + "/messages/live");
  }

  @Test
  void whileTheSocketIsDownItPollsAtTheGivenInterval() throws Exception {
    long start = System.nanoTime();
    new LiveReceiver(
            closedPort(), () -> "token", Clock.systemUTC(), Duration.ofMillis(200), listener())
        .run(() -> fetches.get() >= 3);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(400));
    assertThat(statuses).allMatch(s -> s.startsWith("socket down: polling every"));
  }

  @Test
  void aGapInTheWallClockForcesAFetch() throws Exception {
    AtomicLong now = new AtomicLong(1_000_000_000_000L);
    Clock jumpy =
        new Clock() {
          @Override
          public ZoneOffset getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public Instant instant() {
            return Instant.ofEpochMilli(now.get());
          }
        };
    AtomicInteger checks = new AtomicInteger();
    new LiveReceiver(closedPort(), () -> "token", jumpy, Duration.ofHours(1), listener())
        .run(
            () -> {
              if (checks.incrementAndGet() == 2) {
                now.addAndGet(LiveReceiver.WAKE_GAP_MS + 10_000); // the machine slept
              }
              return checks.get() > 3;
            });
    assertThat(statuses).anyMatch(s -> s.equals("timer gap of 130 s (sleep?): reconnecting"));
    assertThat(fetches.get()).as("one poll at start, one after the wake").isEqualTo(2);
  }

  @Test
  void onReadyItFetchesThenTakesPushedMessagesWithTheTokenInTheHeader() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<String> auth = new CopyOnWriteArrayList<>();
    try {
      HttpServer server =
          vertx
              .createHttpServer()
              .webSocketHandler(
                  ws -> {
                    auth.add(ws.headers().get("Authorization"));
                    ws.writeTextMessage("{\"type\":\"ready\"}");
                    ws.writeTextMessage("{\"type\":\"message\",\"message\":{\"id\":\"m1\"}}");
                  })
              .listen(0)
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      URI url = URI.create("ws://127.0.0.1:" + server.actualPort() + "/live");
      new LiveReceiver(url, () -> "tok-1", Clock.systemUTC(), Duration.ofSeconds(15), listener())
          .run(() -> !pushed.isEmpty() && fetches.get() >= 1);
      assertThat(auth).containsExactly("Bearer tok-1");
      assertThat(statuses).contains("connected");
      assertThat(pushed.get(0).getString("id")).isEqualTo("m1");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
