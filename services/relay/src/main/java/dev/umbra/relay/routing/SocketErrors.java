package dev.umbra.relay.routing;

import dev.umbra.kit.http.WebSockets;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.wire.Reject;
import io.vertx.core.Handler;
import io.vertx.core.http.ServerWebSocket;

/**
 * The exception handler of every WebSocket the relay accepts (clients, daemons, mesh links): a
 * message over the limit is counted {@code oversized} and answered with close 1009 (the kit's
 * {@link WebSockets#closingTooBig}), a corrupt WebSocket frame is counted {@code malformed}.
 */
final class SocketErrors {
  private SocketErrors() {}

  static Handler<Throwable> counted(ServerWebSocket ws, RelayMetrics metrics) {
    return WebSockets.closingTooBig(
        ws,
        e -> {
          String name = e.getClass().getSimpleName();
          String msg = String.valueOf(e.getMessage()).toLowerCase();
          if (name.contains("TooLong")
              || msg.contains("max frame length")
              || msg.contains("too big")
              || msg.contains("message size")) {
            metrics.reject(Reject.OVERSIZED);
          } else if (name.contains("Corrupted")) {
            metrics.reject(Reject.MALFORMED);
          }
        });
  }
}
