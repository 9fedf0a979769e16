package dev.umbra.client.tty;

import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.WireOffer;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.IOException;
import java.net.URI;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A {@link TtyClient}'s WebSocket to the engine ({@link TtyClient#PATH}, the member's session token
 * as bearer): frames go out as they are, binary messages come in to the client's handler.
 */
final class EngineSocket {
  private final Vertx vertx;
  private final WebSocketClient client;
  private final TtyStats stats;
  private WebSocket ws;

  /** {@code tls}: how a {@code wss://} engine is verified (the CLI's CA file and pin). */
  EngineSocket(Vertx vertx, TtyStats stats, ClientTls tls) {
    this.vertx = vertx;
    this.stats = stats;
    // kept in a field for the client's life: Vert.x closes a client that became unreachable,
    // which (after a GC in the middle of a handshake) fails the connection
    this.client = vertx.createWebSocketClient(tls.apply(TtyFrames.engineSocketOptions()));
  }

  /**
   * Opens the WebSocket, then calls {@code opened}; messages go to {@code onMessage}, the close
   * reason to {@code onClose}. An upgrade that fails before anything was sent (the connection
   * closed during the handshake) is tried again, at most {@link TtyClient#CONNECT_ATTEMPTS} times;
   * then {@code failed} hears why.
   */
  void connect(
      URI engineUrl,
      Supplier<Future<String>> tokens,
      Runnable opened,
      Handler<Buffer> onMessage,
      Consumer<String> onClose,
      Consumer<Throwable> failed) {
    attempt(engineUrl, tokens, opened, onMessage, onClose, failed, 1);
  }

  private void attempt(
      URI uri,
      Supplier<Future<String>> tokens,
      Runnable opened,
      Handler<Buffer> onMessage,
      Consumer<String> onClose,
      Consumer<Throwable> failed,
      int n) {
    tokens
        .get()
        .compose(
            token -> {
              boolean tls =
                  "https".equalsIgnoreCase(uri.getScheme())
                      || "wss".equalsIgnoreCase(uri.getScheme());
              int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
              return client.connect(
                  WireOffer.offer(new WebSocketConnectOptions())
                      .setHost(uri.getHost())
                      .setPort(port)
                      .setSsl(tls)
                      .setURI(TtyClient.PATH)
                      .addHeader("Authorization", "Bearer " + token));
            })
        .onSuccess(
            socket -> {
              ws = socket;
              EngineMessages.readLargeFrames(socket);
              // messages as Vert.x decoded them, not copied once more (64 KiB per DATA frame)
              socket.frameHandler(
                  new EngineMessages(
                      TtyFrames.MAX_FRAME_BYTES * 2,
                      onMessage,
                      () ->
                          socket.close(
                              (short) 1009,
                              WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_OVERSIZED))));
              socket.closeHandler(
                  v ->
                      onClose.accept(
                          socket.closeReason() == null || socket.closeReason().isEmpty()
                              ? "closed (code " + socket.closeStatusCode() + ")"
                              : socket.closeReason()));
              socket.exceptionHandler(e -> {});
              opened.run();
            })
        .onFailure(
            e -> {
              boolean handshake = String.valueOf(e.getMessage()).contains("handshake");
              if (handshake && n < TtyClient.CONNECT_ATTEMPTS) {
                stats.count("connect_retried");
                vertx.setTimer(
                    100L * n, t -> attempt(uri, tokens, opened, onMessage, onClose, failed, n + 1));
              } else {
                // a refusal of this build's wire version says which side to upgrade
                failed.accept(WireOffer.refusal(e).<Throwable>map(IOException::new).orElse(e));
              }
            });
  }

  void write(WebTtyFrame f) {
    WebSocket socket = ws;
    if (socket != null) {
      socket.writeBinaryMessage(Buffer.buffer(f.toByteArray()));
    }
  }

  /** True while the WebSocket's send queue is full. */
  boolean writeQueueFull() {
    WebSocket socket = ws;
    return socket != null && socket.writeQueueFull();
  }

  /** Closes now (on the caller's thread). */
  void close() {
    WebSocket socket = ws;
    if (socket != null) {
      socket.close();
    }
  }

  /** Closes on the Vert.x context. */
  void closeOnContext() {
    WebSocket socket = ws;
    if (socket != null) {
      vertx.runOnContext(v -> socket.close());
    }
  }
}
