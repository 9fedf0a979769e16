package dev.umbra.webtty.session;

import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.webtty.recording.RecordingStore;
import dev.umbra.webtty.session.model.SessionModel.Phase;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;

/**
 * A server's connection dropped while its home lives (docs/webtty.md "Engine failover"): its live
 * sessions are kept for the grace ({@code UMBRA_WEBTTY_SERVER_GRACE_SECONDS}, the daemon keeps its
 * shells as long) instead of ending, so the server's RESUME, here or on another instance, finds
 * them. Sessions still in their handshake end at once ({@code server_gone}). While a session waits,
 * participants stay and their stdin is dropped (the server is not there to take it). When the grace
 * passes without the server: if another instance took the session over meanwhile (the stored resume
 * epoch is above this home's), the session only leaves this home — its participants get CLOSE
 * {@code server_gone} and may come back through the new home — else it ends as before.
 */
final class ServerLinkGrace {
  private final Vertx vertx;
  private final SessionHome home;
  private final RecordingStore store;
  private final Duration grace;

  ServerLinkGrace(Vertx vertx, SessionHome home, RecordingStore store, Duration grace) {
    this.vertx = vertx;
    this.home = home;
    this.store = store;
    this.grace = grace;
  }

  /**
   * The server's connection closed: with {@code awaitServer} (the link dropped) live sessions wait
   * for it and the others end ({@code server_gone}); without (the engine closed it: revoked, a
   * protocol violation) all end at once: {@code revoked} when {@code why} says the server was
   * revoked (its participants hear why, whether the revocation or the link's own drop came first),
   * else {@code server_gone}.
   */
  void serverGone(ServerConn conn, boolean awaitServer, WebTtyReason why) {
    WebTtyReason ending =
        why == WebTtyReason.WEBTTY_REASON_REVOKED ? why : WebTtyReason.WEBTTY_REASON_SERVER_GONE;
    for (String id : new ArrayList<>(conn.sessions)) {
      Session s = home.session(id);
      if (s == null || s.server != conn) {
        continue;
      }
      if (!awaitServer) {
        home.endSession(s, ending, null);
        continue;
      }
      if (s.model.phase() != Phase.LIVE) {
        home.endSession(s, WebTtyReason.WEBTTY_REASON_SERVER_GONE, null);
        continue;
      }
      s.serverGraceTimer = vertx.setTimer(grace.toMillis(), t -> expired(s, conn));
    }
  }

  /** Whether {@code s} waits for its server's connection. */
  static boolean awaitsServer(Session s) {
    return s.serverGraceTimer >= 0;
  }

  /** The server is back on {@code conn} (its RESUME was accepted): the session is its again. */
  void rebind(Session s, ServerConn conn, long epoch) {
    cancel(s);
    s.server.sessions.remove(s.id());
    s.server = conn;
    s.resumeEpoch = epoch;
    conn.sessions.add(s.id());
  }

  /** Stops waiting for {@code s}'s server (it came back, or the session ends). */
  void cancel(Session s) {
    if (s.serverGraceTimer >= 0) {
      vertx.cancelTimer(s.serverGraceTimer);
      s.serverGraceTimer = -1;
    }
  }

  private void expired(Session s, ServerConn gone) {
    s.serverGraceTimer = -1;
    if (s.server != gone || home.session(s.id()) != s) {
      return; // the server came back, or the session ended meanwhile
    }
    store
        .resumeEpoch(s.model.workspaceId(), s.id())
        .onComplete(
            ar -> {
              if (s.server != gone || home.session(s.id()) != s) {
                return;
              }
              if (ar.succeeded() && ar.result() > s.resumeEpoch) {
                home.release(s, WebTtyReason.WEBTTY_REASON_SERVER_GONE);
              } else {
                home.endSession(s, WebTtyReason.WEBTTY_REASON_SERVER_GONE, null);
              }
            });
  }
}
