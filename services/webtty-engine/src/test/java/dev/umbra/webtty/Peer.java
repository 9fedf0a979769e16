package dev.umbra.webtty;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestSockets;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A test WebTTY peer (server or client) speaking raw frames to an engine over a real WebSocket. */
final class Peer implements AutoCloseable {
  final WebSocket ws;

  /** Kept referenced: Vert.x closes a client that became unreachable (even mid-handshake). */
  final WebSocketClient client;

  final LinkedBlockingQueue<WebTtyFrame> inbox = new LinkedBlockingQueue<>();
  volatile boolean closed;
  volatile String closeReason;

  private Peer(WebSocketClient client, WebSocket ws) {
    this.client = client;
    this.ws = ws;
    ws.binaryMessageHandler(
        b -> {
          try {
            inbox.add(WebTtyFrame.parseFrom(b.getBytes()));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  static Peer connect(Vertx vertx, int port, String path, String token) throws Exception {
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setHost("127.0.0.1")
            .setPort(port)
            .setURI(path)
            .addHeader("Authorization", "Bearer " + token);
    WebSocketClient client = vertx.createWebSocketClient();
    // its handlers are set before the upgrade: a frame sent at once reaches them (TestSockets)
    Peer[] peer = new Peer[1];
    TestSockets.open(
        client,
        o,
        s -> peer[0] = new Peer(client, s),
        closed -> {
          peer[0].closeReason = closed.closeReason();
          peer[0].closed = true;
        },
        Duration.ofSeconds(5));
    return peer[0];
  }

  void send(WebTtyFrame f) throws Exception {
    sendRaw(f.toByteArray());
  }

  void sendRaw(byte[] raw) throws Exception {
    ws.writeBinaryMessage(Buffer.buffer(raw))
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  /** The next frame of {@code type}, skipping others (kept in {@link #skipped}). */
  WebTtyFrame await(WebTtyFrameType type) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      WebTtyFrame f = inbox.poll(50, TimeUnit.MILLISECONDS);
      if (f == null) {
        continue;
      }
      if (f.getType() == type) {
        return f;
      }
      skipped.add(f);
    }
    throw new AssertionError("no " + type + " within 10 s; skipped " + skipped);
  }

  final List<WebTtyFrame> skipped = new ArrayList<>();

  /** True when the engine closed this connection within 5 s. */
  boolean awaitClosed() {
    return Eventually.holdsWithin(Duration.ofSeconds(5), () -> closed);
  }

  @Override
  public void close() {
    if (!closed) {
      ws.close();
    }
    client.close();
  }
}
