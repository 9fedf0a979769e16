package dev.umbra.controlplane.messaging;

import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One live socket of {@link LiveDelivery} (docs/messaging.md, "WebSocket protocol"): who holds it,
 * whether its client asked for {@code messages} frames, when its client last sent a frame, and
 * whether this side closed it.
 *
 * <p>Nothing is written after this side's close frame ({@link #close}, {@link #send}). Vert.x's
 * {@code isClosed()} turns true only once the peer answered the close frame, and a data frame after
 * a close frame fails the socket in a browser (Chromium: "Data frame received after close", a 1006
 * instead of the code): before, a socket closed 4401 at its upgrade got {@code ready} after the
 * close.
 */
final class LiveSocket {
  /** Close code of a socket whose session or principal was revoked. */
  static final short CLOSE_REVOKED = 4403;

  /** Close code of a socket whose session token expired ({@link SocketExpiry}). */
  static final short CLOSE_EXPIRED = SocketExpiry.CLOSE_EXPIRED;

  /** Close code of a socket that sent a frame the protocol does not have. */
  static final short CLOSE_MALFORMED = 1008;

  /**
   * Close code (1013, "try again later") of a socket that may have missed a copy: its push read
   * failed, or this instance's bus subscriptions were interrupted (notices published meanwhile are
   * lost). The client fetches what is pending at once and reconnects (docs/messaging.md).
   */
  static final short CLOSE_TRY_AGAIN = 1013;

  /** Why a socket was closed with {@link #CLOSE_TRY_AGAIN}: the close frame's reason. */
  enum TryAgain {
    /** Reading the notified copies from PostgreSQL failed. */
    PUSH_FAILED("push_failed"),
    /** The instance's bus subscriptions were lost (Redis restarting, a partition). */
    BUS_INTERRUPTED("bus_interrupted");

    final String reason;

    TryAgain(String reason) {
      this.reason = reason;
    }
  }

  /**
   * Most bytes a socket may have waiting to be written to its client (pushes, pongs, acks): a
   * client that does not read is closed with {@link #CLOSE_NOT_READING} instead of making the
   * instance hold what it sends, or what it asks for, in memory without bound. Its copies stay
   * stored; it fetches them after reconnecting.
   */
  static final int MAX_QUEUED_BYTES = 4 * 1024 * 1024;

  /** Close code of a socket whose client let {@link #MAX_QUEUED_BYTES} pile up unread. */
  static final short CLOSE_NOT_READING = 1008;

  /** Close code of a socket beyond {@link LiveDelivery#MAX_SOCKETS_PER_PARTY}. */
  static final short CLOSE_TOO_MANY = 1008;

  /** Close code of a socket that sent nothing (not even a ping) for the idle limit. */
  static final short CLOSE_IDLE = 1001;

  /** Close code of a socket whose party's bus subscription failed: it reconnects. */
  static final short CLOSE_BUS_UNAVAILABLE = 1011;

  /** Close code of the sockets of an instance that stops: they reconnect to another. */
  static final short CLOSE_GOING_AWAY = 1001;

  private final ServerWebSocket ws;
  private final Party party;
  private final SessionClaims claims;
  private final boolean batched;

  /** When its client last sent a frame ({@link System#nanoTime}). */
  private final AtomicLong lastFrameNanos = new AtomicLong(System.nanoTime());

  /** Set once this side sent its close frame. */
  private final AtomicBoolean closing = new AtomicBoolean();

  /** {@code batched}: the client asked for {@code messages} frames ({@code ?frames=batch}). */
  LiveSocket(ServerWebSocket ws, Party party, SessionClaims claims, boolean batched) {
    this.ws = ws;
    this.party = party;
    this.claims = claims;
    this.batched = batched;
  }

  ServerWebSocket ws() {
    return ws;
  }

  Party party() {
    return party;
  }

  SessionClaims claims() {
    return claims;
  }

  boolean batched() {
    return batched;
  }

  /** Its client sent a frame now. */
  void heard() {
    lastFrameNanos.set(System.nanoTime());
  }

  /** Whether its client sent no frame for longer than {@code idle} before {@code nowNanos}. */
  boolean idle(long nowNanos, Duration idle) {
    return nowNanos - lastFrameNanos.get() > idle.toNanos();
  }

  /** Whether {@code r} ends it: it voids its session token, or revokes the machine of its agent. */
  boolean endedBy(Revoked r) {
    boolean machine =
        r.kind() == RevokedKind.REVOKED_KIND_MACHINE
            && r.workspaceId().equals(party.workspaceId())
            && party.machineId() != null
            && r.subject().equals(party.machineId().toString());
    return machine || r.endsLive(claims);
  }

  /** Whether this side closed it ({@link #close}). */
  boolean closing() {
    return closing.get();
  }

  /** Whether neither side has closed it. */
  boolean open() {
    return !closing.get() && !ws.isClosed();
  }

  /** Closes it with {@code code} and {@code reason}, once; {@link #send} writes nothing after. */
  void close(short code, String reason) {
    if (closing.compareAndSet(false, true)) {
      ws.close(code, reason);
    }
  }

  /** Closes it as its session token expired, its timer disarmed ({@link SocketExpiry}). */
  void expired(SocketExpiry expiry) {
    expiry.disarm(ws);
    close(CLOSE_EXPIRED, SocketExpiry.REASON);
  }

  /**
   * Writes {@code frame}; the future fails if it was not: the socket is closed or closing, or its
   * client let {@link #MAX_QUEUED_BYTES} pile up unread (then it is closed with {@link
   * #CLOSE_NOT_READING}).
   */
  Future<Void> send(JsonObject frame) {
    if (!open()) {
      return Future.failedFuture("closed");
    }
    if (ws.writeQueueFull()) {
      close(CLOSE_NOT_READING, "not reading");
      return Future.failedFuture("not reading");
    }
    return ws.writeTextMessage(frame.encode());
  }
}
