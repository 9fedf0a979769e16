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

/** A bare relay connection for tests: sends raw bytes or frames, collects what arrives. */
public final class RawPeer implements AutoCloseable {
  public final BlockingQueue<RelayFrame> received = new LinkedBlockingQueue<>();
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
    WebSocketClient client =
        vertx.createWebSocketClient(
            new WebSocketClientOptions()
                .setMaxFrameSize(16 * 1024 * 1024)
                .setMaxMessageSize(16 * 1024 * 1024));
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setAbsoluteURI(url.toString())
            .putHeader("authorization", "Bearer " + token);
    headers.forEach(o::putHeader);
    return client
        .connect(o)
        .map(
            ws -> {
              RawPeer p = new RawPeer(client, ws);
              ws.binaryMessageHandler(
                  b -> {
                    try {
                      p.received.add(RelayFrame.parseFrom(b.getBytes()));
                    } catch (InvalidProtocolBufferException e) {
                      throw new IllegalStateException(e);
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

  public static RawPeer open(Vertx vertx, URI url, String token) {
    return RelayCluster.await(connect(vertx, url, token));
  }

  public void send(RelayFrame f) {
    sendRaw(f.toByteArray());
  }

  public void sendRaw(byte[] bytes) {
    RelayCluster.await(ws.writeBinaryMessage(Buffer.buffer(bytes)));
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
