package dev.umbra.relay.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bare relay connection for tests: sends raw bytes or frames, collects what arrives (as frames,
 * and every message's bytes as they came, for peers that are not relay clients: mesh links).
 */
public final class RawPeer implements AutoCloseable {
  public final BlockingQueue<RelayFrame> received = new LinkedBlockingQueue<>();
  public final BlockingQueue<byte[]> raw = new LinkedBlockingQueue<>();
  public volatile Short closeStatus;
  public volatile boolean closed;
  private final WebSocketClient client;
  private final WebSocket ws;

  private RawPeer(WebSocketClient client, WebSocket ws) {
    this.client = client;
    this.ws = ws;
  }

  public static Future<RawPeer> connect(Vertx vertx, URI url, String token) {
    return connect(vertx, url, token, Map.of());
  }

  /** With extra request headers (e.g. what a load balancer adds). */
  public static Future<RawPeer> connect(
      Vertx vertx, URI url, String token, Map<String, String> headers) {
    Map<String, String> all = new java.util.HashMap<>(headers);
    all.put("authorization", "Bearer " + token);
    return connect(vertx, url, all, 0);
  }

  /**
   * With exactly these request headers and, when {@code receiveBuffer} is positive, that socket
   * receive buffer (a small one makes a paused reader's backlog reach the relay quickly).
   */
  public static Future<RawPeer> connect(
      Vertx vertx, URI url, Map<String, String> headers, int receiveBuffer) {
    return connect(
        vertx,
        url,
        headers,
        receiveBuffer,
        new WebSocketClientOptions()
            .setMaxFrameSize(16 * 1024 * 1024)
            .setMaxMessageSize(16 * 1024 * 1024));
  }

  /** With these client options (e.g. the trust and client certificate of a TLS test). */
  public static Future<RawPeer> connect(
      Vertx vertx,
      URI url,
      Map<String, String> headers,
      int receiveBuffer,
      WebSocketClientOptions base) {
    WebSocketClientOptions options = new WebSocketClientOptions(base);
    if (receiveBuffer > 0) {
      options.setReceiveBufferSize(receiveBuffer);
    }
    WebSocketClient client = vertx.createWebSocketClient(options);
    WebSocketConnectOptions o = new WebSocketConnectOptions().setAbsoluteURI(url.toString());
    headers.forEach(o::putHeader);
    return client
        .connect(o)
        .map(
            ws -> {
              RawPeer p = new RawPeer(client, ws);
              ws.binaryMessageHandler(
                  b -> {
                    p.raw.add(b.getBytes());
                    try {
                      p.received.add(RelayFrame.parseFrom(b.getBytes()));
                    } catch (InvalidProtocolBufferException e) {
                      // not a relay frame: only in raw
                    }
                  });
              ws.closeHandler(
                  v -> {
                    p.closeStatus = ws.closeStatusCode();
                    p.closed = true;
                  });
              return p;
            })
        .onFailure(e -> client.close());
  }

  /**
   * Why an upgrade to {@code url} with these headers and options failed, as its root cause (an
   * {@code UpgradeRejectedException} for a refusal by status, an {@code SSLException} or {@code
   * IOException} for one by the handshake); null when it succeeded (the peer is then closed). Waits
   * up to 120 s: a TLS handshake at load 40.
   */
  public static Throwable refusal(
      Vertx vertx, URI url, Map<String, String> headers, WebSocketClientOptions options) {
    var f = connect(vertx, url, headers, 0, options).toCompletionStage().toCompletableFuture();
    try {
      f.get(120, java.util.concurrent.TimeUnit.SECONDS).close();
      return null;
    } catch (Exception e) {
      Throwable t = e;
      while (t.getCause() != null) {
        t = t.getCause();
      }
      return t;
    }
  }

  public static RawPeer open(Vertx vertx, URI url, String token) {
    return RelayCluster.await(connect(vertx, url, token));
  }

  public void send(RelayFrame f) {
    sendRaw(f.toByteArray());
  }

  public void sendRaw(byte[] bytes) {
    RelayCluster.await(ws.writeBinaryMessage(Buffer.buffer(bytes)));
  }

  /** Queues a frame without waiting for it to be written (the relay may be holding this peer). */
  public void sendLater(RelayFrame f) {
    ws.writeBinaryMessage(Buffer.buffer(f.toByteArray()));
  }

  /** Stops reading: what the relay sends piles up in the socket, then in the relay's queue. */
  public void pause() {
    ws.pause();
  }

  public void resume() {
    ws.resume();
  }

  /** The next message's bytes, whatever they hold. */
  public byte[] nextRaw() {
    try {
      byte[] b = raw.poll(10, TimeUnit.SECONDS);
      if (b == null) {
        throw new AssertionError("no message within 10 s");
      }
      return b;
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  public RelayFrame next() {
    try {
      RelayFrame f = received.poll(10, TimeUnit.SECONDS);
      if (f == null) {
        throw new AssertionError("no frame within 10 s");
      }
      return f;
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Next frame of the given type, skipping others. */
  public RelayFrame next(FrameType type) {
    while (true) {
      RelayFrame f = next();
      if (f.getType() == type) {
        return f;
      }
    }
  }

  public RelayFrame poll(long millis) {
    try {
      return received.poll(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  public boolean awaitClosed(long millis) {
    return Eventually.holdsWithin(Duration.ofMillis(millis), () -> closed);
  }

  @Override
  public void close() {
    if (!closed) {
      ws.close();
    }
    client.close();
  }
}
