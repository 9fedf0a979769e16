package dev.umbra.client.channel;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.WireOffer;
import dev.umbra.proto.Wire;
import dev.umbra.proto.relay.RelayFrame;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import java.net.URI;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WebSocket to the relay that reconnects by itself: on loss it tries the relay URLs in turn
 * with capped exponential backoff and jitter, fetching a fresh session token each time, and calls
 * {@code onConnected} so the owner re-registers and resumes its channels. Frames sent while
 * disconnected are dropped: the channel layer resends what was not acknowledged. Runs on the
 * context it was created on.
 */
public final class RelayLink {
  private static final Logger log = LoggerFactory.getLogger(RelayLink.class);
  private static final long MAX_BACKOFF_MS = 3_000;
  private static final int MAX_FRAME = 128 * 1024;

  private final Vertx vertx;
  private final Context context;
  private final List<URI> relays;
  private final Supplier<Future<String>> tokens;
  private final Handler<RelayFrame> onFrame;
  private final Handler<Void> onConnected;
  private final WebSocketClient client;
  private final Promise<Void> firstConnect = Promise.promise();
  private WebSocket ws;
  private int nextRelay;
  private int attempt;
  private boolean stopped;
  private volatile long connects;

  public RelayLink(
      Vertx vertx,
      List<URI> relays,
      Supplier<Future<String>> tokens,
      Handler<RelayFrame> onFrame,
      Handler<Void> onConnected) {
    this(vertx, relays, tokens, onFrame, onConnected, ClientTls.system());
  }

  /** A link verifying a {@code wss://} relay with {@code tls} (its CA file, its pin). */
  public RelayLink(
      Vertx vertx,
      List<URI> relays,
      Supplier<Future<String>> tokens,
      Handler<RelayFrame> onFrame,
      Handler<Void> onConnected,
      ClientTls tls) {
    if (relays.isEmpty()) {
      throw new IllegalArgumentException("at least one relay URL is needed");
    }
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.relays = List.copyOf(relays);
    this.tokens = tokens;
    this.onFrame = onFrame;
    this.onConnected = onConnected;
    this.client =
        vertx.createWebSocketClient(
            tls.apply(
                new WebSocketClientOptions()
                    .setMaxFrameSize(MAX_FRAME)
                    .setMaxMessageSize(MAX_FRAME)
                    .setTryUsePerMessageCompression(false)
                    .setTryUsePerFrameCompression(false)
                    .setConnectTimeout(5_000)));
  }

  /**
   * Connects; the future completes on the first successful connection (retries continue in the
   * background).
   */
  public Future<Void> start() {
    context.runOnContext(v -> connect());
    return firstConnect.future();
  }

  public Context context() {
    return context;
  }

  public boolean connected() {
    return ws != null && !ws.isClosed();
  }

  /** How many times a connection was established (tests). */
  public long connects() {
    return connects;
  }

  private void connect() {
    if (stopped) {
      return;
    }
    URI url = relays.get(Math.floorMod(nextRelay++, relays.size()));
    tokens
        .get()
        .compose(
            token ->
                client.connect(
                    WireOffer.offer(new WebSocketConnectOptions())
                        .setAbsoluteURI(url.toString())
                        .putHeader("authorization", "Bearer " + token)))
        .onComplete(
            ar -> {
              if (stopped) {
                if (ar.succeeded()) {
                  ar.result().close();
                }
                return;
              }
              if (ar.failed()) {
                // a refused wire version is not a network blip: said at warn, with both versions
                WireOffer.refusal(ar.cause())
                    .ifPresent(why -> log.warn("the relay refused this client: {}", why));
                log.atDebug()
                    .addKeyValue("relay", url.getHost() + ":" + url.getPort())
                    .log("relay connect failed: {}", ar.cause().getMessage());
                retry();
                return;
              }
              attached(ar.result());
            });
  }

  private void attached(WebSocket socket) {
    ws = socket;
    attempt = 0;
    connects++;
    socket.binaryMessageHandler(
        b -> {
          try {
            // the payload stays a view of this copy of the message, never written to again
            onFrame.handle(Wire.parseAliased(RelayFrame.parser(), b.getBytes()));
          } catch (InvalidProtocolBufferException e) {
            log.debug("unreadable frame from the relay ignored");
          }
        });
    socket.closeHandler(
        v -> {
          if (ws == socket) {
            ws = null;
            if (!stopped) {
              log.info("relay connection lost; reconnecting");
              retry();
            }
          }
        });
    socket.exceptionHandler(e -> log.debug("relay connection error: {}", e.getMessage()));
    onConnected.handle(null);
    firstConnect.tryComplete();
  }

  private void retry() {
    long base = Math.min(MAX_BACKOFF_MS, 100L << Math.min(attempt++, 5));
    long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    vertx.setTimer(delay, t -> connect());
  }

  /** Sends when connected; otherwise the frame is dropped (the channel layer resends). */
  public void send(RelayFrame frame) {
    WebSocket s = ws;
    if (s != null && !s.isClosed()) {
      // wrapped, not copied once more as Buffer.buffer(byte[]) would
      s.writeBinaryMessage(BufferInternal.buffer(Unpooled.wrappedBuffer(frame.toByteArray())));
    }
  }

  /** True while the socket's send queue is full. */
  public boolean congested() {
    WebSocket s = ws;
    return s != null && s.writeQueueFull();
  }

  /** Closes the current connection without stopping (tests: as if the network dropped). */
  public void drop() {
    WebSocket s = ws;
    if (s != null) {
      s.close();
    }
  }

  public Future<Void> stop() {
    stopped = true;
    firstConnect.tryFail("relay link stopped");
    WebSocket s = ws;
    ws = null;
    Future<Void> closed =
        s == null ? Future.succeededFuture() : s.close().recover(e -> Future.succeededFuture());
    return closed.eventually(client::close);
  }
}
