package dev.umbra.webtty.session;

import dev.umbra.kit.auth.SessionClaims;
import io.vertx.core.http.ServerWebSocket;

/** A WebTTY client's connection to this instance: one participant in at most one session. */
final class ClientConn {
  final ServerWebSocket ws;
  final SessionClaims claims;
  final String participantId;
  String sessionId;
  String keyIdHex = "";

  /**
   * The instance whose deliveries reach this connection (its session's home), once one arrived; a
   * takeover by another instance moves the participant (docs/webtty.md, "A home's death").
   */
  String homeInstance;

  /** A JOIN or ATTACH was sent and neither JOINED nor REFUSED came back yet. */
  boolean joinPending;

  boolean closed;

  ClientConn(ServerWebSocket ws, SessionClaims claims, String participantId) {
    this.ws = ws;
    this.claims = claims;
    this.participantId = participantId;
  }
}
