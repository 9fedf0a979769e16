package dev.umbra.webtty.session;

import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.bus.Subscription;
import dev.umbra.kit.http.WsMessages;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.WebTtyFrame;
import io.vertx.core.http.ServerWebSocket;
import java.util.LinkedHashSet;
import java.util.Set;

/** A WebTTY server's (daemon's) connection to this instance. */
final class ServerConn {
  final ServerWebSocket ws;
  final SessionClaims claims;
  String serverId;
  ServerPolicy policy;
  Subscription channel;
  boolean paused;
  boolean closed;
  final Set<String> sessions = new LinkedHashSet<>();

  ServerConn(ServerWebSocket ws, SessionClaims claims) {
    this.ws = ws;
    this.claims = claims;
  }

  boolean registered() {
    return serverId != null;
  }

  /** Writes a frame to the server unless the connection is closed. */
  void write(WebTtyFrame f) {
    if (!closed) {
      ws.writeBinaryMessage(WsMessages.of(f));
    }
  }
}
