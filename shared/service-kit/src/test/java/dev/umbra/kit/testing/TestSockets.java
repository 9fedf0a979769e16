package dev.umbra.kit.testing;

import io.vertx.core.Future;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Opens a test's WebSocket with its handlers set before the upgrade completes, so a frame the
 * server sends at once (a {@code ready}, a replay) reaches them.
 *
 * <p>Setting them on the socket that {@code client.connect(…)} completes with is too late when the
 * test's thread gets to it after the connection's event loop: Vert.x holds the frames that came
 * with the upgrade until the connect future's own listener resumes the socket, and hands them to
 * whatever handlers the socket has by then, none. A CI run lost the control plane's {@code ready}
 * that way (MessageDeliveryTest, 2026-12-06).
 *
 * <p>A socket the server closed as it upgraded it (a close frame in the same read as the 101) comes
 * back closed, its close code readable, but its handlers were never called: Vert.x refuses handlers
 * on a closed socket, and its {@link ClientWebSocket} then fails the connect with "WebSocket is
 * closed" instead. A caller that waits for the close passes {@code onClosed}, called once either
 * way.
 */
public final class TestSockets {
  private TestSockets() {}

  /**
   * Connects {@code client} with {@code options}, {@code handlers} set on the socket first; waits
   * up to {@code within} for the upgrade. {@code client} must stay reachable while its socket is
   * used (HeldClientsTest).
   */
  public static WebSocket open(
      WebSocketClient client,
      WebSocketConnectOptions options,
      Consumer<ClientWebSocket> handlers,
      Duration within)
      throws Exception {
    return open(client, options, handlers, closed -> {}, within);
  }

  /**
   * As above; {@code onClosed} hears the socket once it is closed, whether it closed after its
   * upgrade or with it ({@code handlers} must not set a close handler of their own).
   */
  public static WebSocket open(
      WebSocketClient client,
      WebSocketConnectOptions options,
      Consumer<ClientWebSocket> handlers,
      Consumer<WebSocket> onClosed,
      Duration within)
      throws Exception {
    return Futures.await(connect(client, options, handlers, onClosed), within);
  }

  /** As {@link #open}, without waiting. */
  public static Future<WebSocket> connect(
      WebSocketClient client,
      WebSocketConnectOptions options,
      Consumer<ClientWebSocket> handlers,
      Consumer<WebSocket> onClosed) {
    ClientWebSocket socket = client.webSocket();
    handlers.accept(socket);
    AtomicBoolean told = new AtomicBoolean();
    Runnable closed =
        () -> {
          if (told.compareAndSet(false, true)) {
            onClosed.accept(socket);
          }
        };
    socket.closeHandler(v -> closed.run());
    return socket
        .connect(options)
        .<WebSocket>map(socket)
        .recover(
            e -> closedAtUpgrade(socket) ? Future.succeededFuture(socket) : Future.failedFuture(e))
        .onSuccess(
            s -> {
              if (closedAtUpgrade(socket)) {
                closed.run(); // no handler was called (or it was, and this does nothing)
              }
            });
  }

  private static boolean closedAtUpgrade(ClientWebSocket socket) {
    try {
      return socket.isClosed();
    } catch (IllegalStateException neverConnected) {
      return false;
    }
  }
}
