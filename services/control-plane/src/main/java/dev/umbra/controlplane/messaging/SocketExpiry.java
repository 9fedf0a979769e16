package dev.umbra.controlplane.messaging;

import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Closes a live socket when the session token it was opened with expires (docs/messaging.md,
 * "WebSocket protocol"): the token is checked once, at the upgrade, so without this a socket kept
 * receiving for as long as it stayed open. A timer per socket, armed at the upgrade for the time
 * the token has left by the clock, closes it with {@link #CLOSE_EXPIRED}; the idle sweep also
 * closes the sockets whose token expired by the clock ({@link #due}: a clock set forward). Clients
 * fetch a fresh token and reconnect.
 */
final class SocketExpiry {
  /** Close code of a socket whose session token expired: renew the token and reconnect. */
  static final short CLOSE_EXPIRED = 4401;

  /** The close frame's reason with {@link #CLOSE_EXPIRED}. */
  static final String REASON = "session expired";

  private final Vertx vertx;
  private final Clock clock;
  private final Map<ServerWebSocket, Long> timers = new ConcurrentHashMap<>();

  SocketExpiry(Vertx vertx, Clock clock) {
    this.vertx = vertx;
    this.clock = clock;
  }

  /**
   * Runs {@code close} (which closes {@code ws} with {@link #CLOSE_EXPIRED}) at {@code expiresAt}
   * (at once if it passed) unless {@link #disarm}ed.
   */
  void arm(ServerWebSocket ws, Instant expiresAt, Runnable close) {
    long ms = Duration.between(clock.instant(), expiresAt).toMillis();
    if (ms <= 0) {
      close.run();
      return;
    }
    timers.put(
        ws,
        vertx.setTimer(
            ms,
            t -> {
              if (timers.remove(ws, t)) {
                close.run();
              }
            }));
  }

  /** Forgets {@code ws}'s timer (the socket closed). */
  void disarm(ServerWebSocket ws) {
    Long t = timers.remove(ws);
    if (t != null) {
      vertx.cancelTimer(t);
    }
  }

  /** Whether a token expiring at {@code expiresAt} has expired by the clock. */
  boolean due(Instant expiresAt) {
    return !clock.instant().isBefore(expiresAt);
  }
}
