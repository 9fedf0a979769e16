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
import java.util.concurrent.CompletableFuture;
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

  final List<List<String>> frames = new CopyOnWriteArrayList<>();

  LiveReceiver.Listener listener() {
    return listener(false);
  }

  /** {@code keepFrames}: a {@code messages} frame's ids go to {@link #frames} as one list. */
  LiveReceiver.Listener listener(boolean keepFrames) {
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
      public void messages(List<JsonObject> messages) {
        if (keepFrames) {
          frames.add(messages.stream().map(m -> m.getString("id")).toList());
        } else {
          LiveReceiver.Listener.super.messages(messages);
        }
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
    assertThat(statuses).filteredOn(s -> s.startsWith("socket down: polling every")).hasSize(1);
    assertThat(statuses).noneMatch(s -> s.equals("connected"));
  }

  /** A server that takes the TCP connection and the upgrade request and never answers. */
  @Test
  void anUpgradeThatHangsDoesNotHoldUpPolling() throws Exception {
    try (ServerSocket swallow = new ServerSocket(0)) {
      List<java.net.Socket> held = new CopyOnWriteArrayList<>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (true) {
                    held.add(swallow.accept());
                  }
                } catch (java.io.IOException closed) {
                  // the test is over
                }
              });
      URI url = URI.create("ws://127.0.0.1:" + swallow.getLocalPort() + "/live");
      long start = System.nanoTime();
      new LiveReceiver(url, () -> "token", Clock.systemUTC(), Duration.ofMillis(300), listener())
          .run(() -> fetches.get() >= 3);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("three polls while the first upgrade still hangs")
          .isLessThan(Duration.ofMillis(LiveReceiver.CONNECT_TIMEOUT_MS));
      assertThat(held).hasSize(1);
      for (java.net.Socket s : held) {
        s.close();
      }
    }
  }

  static final class JumpyClock extends Clock {
    final AtomicLong now = new AtomicLong(1_000_000_000_000L);

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
      return Instant.ofEpochMilli(now.get() + System.nanoTime() / 1_000_000);
    }
  }

  @Test
  void aGapInTheTimersDropsTheLiveSocketFetchesAndReconnects() throws Exception {
    Vertx vertx = Vertx.vertx();
    AtomicInteger connections = new AtomicInteger();
    CompletableFuture<Void> firstClosed = new CompletableFuture<>();
    try {
      URI url =
          serve(
              vertx,
              ws -> {
                int n = connections.incrementAndGet();
                ws.closeHandler(
                    v -> {
                      if (n == 1) {
                        firstClosed.complete(null);
                      }
                    });
                ws.writeTextMessage("{\"type\":\"ready\"}");
              });
      JumpyClock clock = new JumpyClock();
      AtomicInteger slept = new AtomicInteger();
      new LiveReceiver(url, () -> "token", clock, Duration.ofSeconds(15), listener())
          .run(
              () -> {
                if (fetches.get() == 1 && slept.getAndIncrement() == 0) {
                  clock.now.addAndGet(LiveReceiver.WAKE_GAP_MS + 10_000); // the machine slept
                }
                return connections.get() == 2 && fetches.get() >= 3;
              });
      assertThat(statuses)
          .containsSubsequence(
              "connected", "timer gap of 130 s (sleep?): reconnecting", "connected");
      assertThat(fetches.get()).as("on ready, after the wake, on ready again").isEqualTo(3);
      firstClosed.get(10, TimeUnit.SECONDS); // the dropped socket was closed, not left open
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSocketThatDropsIsFollowedByAFetchAndAReconnect() throws Exception {
    Vertx vertx = Vertx.vertx();
    AtomicInteger connections = new AtomicInteger();
    try {
      URI url =
          serve(
              vertx,
              ws -> {
                ws.writeTextMessage("{\"type\":\"ready\"}");
                if (connections.incrementAndGet() == 1) {
                  ws.close((short) 1001, "going away"); // the instance stops
                }
              });
      new LiveReceiver(url, () -> "token", Clock.systemUTC(), Duration.ofSeconds(15), listener())
          .run(() -> connections.get() == 2 && statuses.getLast().equals("connected"));
      assertThat(statuses)
          .containsSubsequence(
              "connected",
              "disconnected (code 1001 going away): reconnecting in 1 s",
              "socket down: polling every 15 s",
              "connected");
      assertThat(fetches.get()).as("on ready, at the drop, on ready again").isEqualTo(3);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLiveSocketClosedWith1013IsFollowedByAFetchAtOnceAndAReconnectWithoutPolling()
      throws Exception {
    Vertx vertx = Vertx.vertx();
    AtomicInteger connections = new AtomicInteger();
    try {
      URI url =
          serve(
              vertx,
              ws -> {
                ws.writeTextMessage("{\"type\":\"ready\"}");
                if (connections.incrementAndGet() == 1) {
                  ws.close((short) 1013, "bus_interrupted"); // it may have missed a notice
                }
              });
      new LiveReceiver(url, () -> "token", Clock.systemUTC(), Duration.ofSeconds(15), listener())
          .run(() -> connections.get() == 2 && statuses.getLast().equals("connected"));
      assertThat(statuses)
          .containsExactly(
              "connected",
              "live delivery interrupted (code 1013 bus_interrupted): fetching pending, reconnecting",
              "connected");
      assertThat(fetches.get()).as("on ready, at the close, on ready again").isEqualTo(3);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLiveSocketClosedAsItsTokenExpiredReconnectsAtOnceWithAFreshTokenAfterAFetch()
      throws Exception {
    Vertx vertx = Vertx.vertx();
    List<String> auth = new CopyOnWriteArrayList<>();
    try {
      URI url =
          serve(
              vertx,
              ws -> {
                auth.add(ws.headers().get("Authorization"));
                ws.writeTextMessage("{\"type\":\"ready\"}");
                if (auth.size() == 1) {
                  ws.close((short) 4401, "session expired"); // the server's timer at exp
                }
              });
      runRenewing(url, () -> auth.size() == 2 && statuses.getLast().equals("connected"));
      assertThat(auth).containsExactly("Bearer tok-1", "Bearer tok-2");
      assertThat(statuses)
          .containsExactly(
              "connected",
              "session expired (code 4401 session expired): fetching pending, reconnecting with a"
                  + " fresh token",
              "connected");
      assertThat(fetches.get()).as("on ready, at the close, on ready again").isEqualTo(3);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSocketRefusedAsExpiredBeforeItWentLiveReconnectsWithAFreshToken() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<String> auth = new CopyOnWriteArrayList<>();
    try {
      URI url =
          serve(
              vertx,
              ws -> {
                auth.add(ws.headers().get("Authorization"));
                if (auth.size() == 1) {
                  ws.close((short) 4401, "session expired"); // expired already at the upgrade
                } else {
                  ws.writeTextMessage("{\"type\":\"ready\"}");
                }
              });
      runRenewing(url, () -> auth.size() == 2 && statuses.getLast().equals("connected"));
      assertThat(auth).containsExactly("Bearer tok-1", "Bearer tok-2");
      assertThat(statuses.getLast()).isEqualTo("connected");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Runs a receiver of {@code url} until {@code done}, its token supplier keeping {@code tok-N}
   * until told the token expired (then minting {@code tok-N+1}), as {@code umbra agent run} does.
   */
  private void runRenewing(URI url, java.util.function.BooleanSupplier done) throws Exception {
    AtomicInteger minted = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<String> kept =
        new java.util.concurrent.atomic.AtomicReference<>();
    new LiveReceiver(
            url,
            () -> kept.updateAndGet(t -> t != null ? t : "tok-" + minted.incrementAndGet()),
            Clock.systemUTC(),
            Duration.ofSeconds(15),
            listener())
        .onTokenExpired(() -> kept.set(null))
        .run(done);
  }

  /** A WebSocket server on port 0 with {@code handler}; its URL. */
  static URI serve(Vertx vertx, io.vertx.core.Handler<io.vertx.core.http.ServerWebSocket> handler)
      throws Exception {
    HttpServer server =
        vertx
            .createHttpServer()
            .webSocketHandler(handler)
            .listen(0)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return URI.create("ws://127.0.0.1:" + server.actualPort() + "/live");
  }

  @Test
  void onReadyItFetchesThenTakesPushedMessagesWithTheTokenInTheHeader() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<String> auth = new CopyOnWriteArrayList<>();
    try {
      URI url =
          serve(
              vertx,
              ws -> {
                auth.add(ws.headers().get("Authorization"));
                ws.writeTextMessage("{\"type\":\"ready\"}");
                ws.writeTextMessage("{\"type\":\"message\",\"message\":{\"id\":\"m1\"}}");
              });
      new LiveReceiver(url, () -> "tok-1", Clock.systemUTC(), Duration.ofSeconds(15), listener())
          .run(() -> !pushed.isEmpty() && fetches.get() >= 1);
      assertThat(auth).containsExactly("Bearer tok-1");
      assertThat(statuses).contains("connected");
      assertThat(pushed.get(0).getString("id")).isEqualTo("m1");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aMessagesFrameGoesToTheListenerAsOneListInOrderAndTheUrlAsksForIt() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<String> queries = new CopyOnWriteArrayList<>();
    try {
      URI base =
          serve(
              vertx,
              ws -> {
                queries.add(String.valueOf(ws.query()));
                ws.writeTextMessage("{\"type\":\"ready\"}");
                ws.writeTextMessage(
                    "{\"type\":\"messages\",\"messages\":[{\"id\":\"m1\"},7,{\"id\":\"m2\"}]}");
                ws.writeTextMessage("{\"type\":\"message\",\"message\":{\"id\":\"m3\"}}");
              });
      URI url = LiveReceiver.liveUrl("http://" + base.getRawAuthority(), UUID.randomUUID());
      new LiveReceiver(url, () -> "tok", Clock.systemUTC(), Duration.ofSeconds(15), listener(true))
          .run(() -> !pushed.isEmpty());
      assertThat(queries).containsExactly("frames=batch");
      assertThat(frames).containsExactly(List.of("m1", "m2"));
      assertThat(pushed).extracting(m -> m.getString("id")).containsExactly("m3");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void byDefaultEachCopyOfAMessagesFrameGoesToMessage() {
    LiveReceiver.Listener l = listener();
    l.messages(List.of(new JsonObject().put("id", "a"), new JsonObject().put("id", "b")));
    assertThat(pushed).extracting(m -> m.getString("id")).containsExactly("a", "b");
  }

  /**
   * A listener that acknowledges each pushed copy on its own, as a client that opens one by one.
   */
  LiveReceiver.Listener acking(java.util.concurrent.atomic.AtomicReference<LiveReceiver> r) {
    LiveReceiver.Listener inner = listener();
    return new LiveReceiver.Listener() {
      @Override
      public void fetch() {
        inner.fetch();
      }

      @Override
      public void message(JsonObject m) {
        inner.message(m);
        r.get().ack(List.of(UUID.fromString(m.getString("id"))));
      }

      @Override
      public void status(String status) {
        inner.status(status);
      }
    };
  }

  @Test
  void acksGoInFramesOfAtMost200OnTheLiveSocketOnceTheOldestWaitedTheLinger() throws Exception {
    Vertx vertx = Vertx.vertx();
    List<JsonObject> got = new CopyOnWriteArrayList<>();
    List<String> ids = new java.util.ArrayList<>();
    StringBuilder copies = new StringBuilder();
    for (int i = 0; i < 250; i++) {
      String id = UUID.randomUUID().toString();
      ids.add(id);
      copies.append(i == 0 ? "" : ",").append("{\"id\":\"").append(id).append("\"}");
    }
    try {
      URI url =
          serve(
              vertx,
              ws -> {
                ws.textMessageHandler(t -> got.add(new JsonObject(t)));
                ws.writeTextMessage("{\"type\":\"ready\"}");
                ws.writeTextMessage("{\"type\":\"messages\",\"messages\":[" + copies + "]}");
              });
      var r = new java.util.concurrent.atomic.AtomicReference<LiveReceiver>();
      List<UUID> fallback = new CopyOnWriteArrayList<>();
      r.set(
          new LiveReceiver(url, () -> "tok", Clock.systemUTC(), Duration.ofSeconds(15), acking(r))
              .fallbackAcks(fallback::addAll));
      long start = System.nanoTime();
      r.get()
          .run(
              () ->
                  got.stream().mapToInt(f -> f.getJsonArray("ids").size()).sum() == 250
                      || System.nanoTime() - start > 10_000_000_000L);
      assertThat(got).extracting(f -> f.getString("type")).containsOnly("ack");
      assertThat(got)
          .as("250 acks given one by one: one full frame at once, the rest after the linger")
          .extracting(f -> f.getJsonArray("ids").size())
          .containsExactly(200, 50);
      assertThat(got.stream().flatMap(f -> f.getJsonArray("ids").stream()).toList()).isEqualTo(ids);
      assertThat(got.get(0).fieldNames()).containsExactlyInAnyOrder("type", "ids");
      assertThat(fallback).isEmpty();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The JDK may complete the socket's connect future after its listener has queued the first
   * frames: the {@code ready} then made the attempt live before the loop knew the socket, and the
   * first acknowledgements sent threw (a CI failure of 2026-12-06). The socket is now known from
   * the listener's {@code onOpen}, ahead of its frames. A server that writes {@code ready} and a
   * full frame of acknowledgeable copies as soon as it accepts, many times over.
   */
  @Test
  void acksSentRightAfterReadyFindTheSocketHoweverLateItsConnectFutureCompletes() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      for (int round = 0; round < 20; round++) {
        List<JsonObject> got = new CopyOnWriteArrayList<>();
        StringBuilder copies = new StringBuilder();
        for (int i = 0; i < LiveReceiver.MAX_ACK_IDS; i++) {
          copies.append(i == 0 ? "" : ",").append("{\"id\":\"").append(UUID.randomUUID());
          copies.append("\"}");
        }
        URI url =
            serve(
                vertx,
                ws -> {
                  ws.textMessageHandler(t -> got.add(new JsonObject(t)));
                  ws.writeTextMessage("{\"type\":\"ready\"}");
                  ws.writeTextMessage("{\"type\":\"messages\",\"messages\":[" + copies + "]}");
                });
        var r = new java.util.concurrent.atomic.AtomicReference<LiveReceiver>();
        List<UUID> fallback = new CopyOnWriteArrayList<>();
        r.set(
            new LiveReceiver(url, () -> "tok", Clock.systemUTC(), Duration.ofSeconds(15), acking(r))
                .fallbackAcks(fallback::addAll));
        long start = System.nanoTime();
        r.get().run(() -> !got.isEmpty() || System.nanoTime() - start > 10_000_000_000L);
        assertThat(got).as("round " + round).hasSize(1);
        assertThat(fallback).isEmpty();
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void acksGivenWhileTheSocketIsDownGoToTheFallbackTogether() throws Exception {
    List<List<UUID>> fallback = new CopyOnWriteArrayList<>();
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    var r = new java.util.concurrent.atomic.AtomicReference<LiveReceiver>();
    LiveReceiver.Listener inner = listener();
    r.set(
        new LiveReceiver(
                closedPort(),
                () -> "token",
                Clock.systemUTC(),
                Duration.ofMillis(50),
                new LiveReceiver.Listener() {
                  @Override
                  public void fetch() {
                    if (fetches.incrementAndGet() == 1) {
                      r.get().ack(List.of(a));
                      r.get().ack(List.of(b));
                    }
                  }

                  @Override
                  public void message(JsonObject m) {}

                  @Override
                  public void status(String status) {
                    inner.status(status);
                  }
                })
            .fallbackAcks(fallback::add));
    r.get().run(() -> !fallback.isEmpty());
    assertThat(fallback).containsExactly(List.of(a, b));
  }

  @Test
  void acksStillWaitingWhenTheLoopStopsGoToTheFallback() throws Exception {
    List<List<UUID>> fallback = new CopyOnWriteArrayList<>();
    UUID a = UUID.randomUUID();
    var r = new java.util.concurrent.atomic.AtomicReference<LiveReceiver>();
    r.set(
        new LiveReceiver(
                closedPort(),
                () -> "token",
                Clock.systemUTC(),
                Duration.ofMillis(50),
                new LiveReceiver.Listener() {
                  @Override
                  public void fetch() {
                    fetches.incrementAndGet();
                    r.get().ack(List.of(a));
                  }

                  @Override
                  public void message(JsonObject m) {}

                  @Override
                  public void status(String status) {}
                })
            .fallbackAcks(fallback::add));
    r.get().run(() -> fetches.get() >= 1); // stops before the linger is over
    assertThat(fallback).containsExactly(List.of(a));
  }

  @Test
  void anAckFrameIsTheDocumentedJson() {
    UUID a = UUID.randomUUID();
    UUID b = UUID.randomUUID();
    JsonObject f = new JsonObject(LiveReceiver.ackFrame(List.of(a, b)));
    assertThat(f)
        .isEqualTo(
            new JsonObject()
                .put("type", "ack")
                .put(
                    "ids", new io.vertx.core.json.JsonArray().add(a.toString()).add(b.toString())));
  }
}
