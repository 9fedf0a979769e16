package dev.umbra.relay.routing;

import dev.umbra.kit.auth.SessionClaims;
import io.vertx.core.http.ServerWebSocket;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One authenticated WebSocket: a daemon (serves one target) or a client (holds channels). Lives on
 * the relay verticle's event loop only. Reading is paused while any reason to hold it exists (rate
 * debt, a full destination queue, a full bus publisher, a pending subscription): {@link #hold()}
 * and {@link #release()} count those reasons.
 */
final class Connection {
  final long id;
  final ServerWebSocket ws;
  final SessionClaims claims;
  final boolean daemon;
  final String ip;
  final String workspace;
  final BusPublisher publisher;

  /** Registered target (daemon only). */
  String target;

  long registeredAt;

  /** Channel keys this client routes. */
  final Set<String> channels = new HashSet<>();

  /** Channel keys whose OPEN this client sent here and the daemon has not answered yet (audit). */
  final Set<String> opening = new HashSet<>();

  /** Local senders paused because this connection's send queue was full. */
  final Set<Connection> waiting = new LinkedHashSet<>();

  /**
   * The connections whose {@link #waiting} holds this one: what a close must clean up, without
   * going through every connection of the instance.
   */
  final Set<Connection> waitingOn = new HashSet<>();

  /** Bytes of frames from mesh links written to this connection and not yet sent on. */
  long linkBytes;

  /** Mesh routes whose peer was told to pause because this connection's queue was full. */
  final Set<MeshLink.Told> told = new LinkedHashSet<>();

  /** The keys of the last route this connection's frames took. */
  final RouteKeys keys = new RouteKeys();

  /** The target of the last frame that passed validation (saves a pattern match per frame). */
  String lastValidTarget;

  long lastHeardNanos;
  boolean closed;
  boolean rateHeld;
  private int holds;

  Connection(
      long id,
      ServerWebSocket ws,
      SessionClaims claims,
      boolean daemon,
      String ip,
      BusPublisher publisher,
      long now) {
    this.id = id;
    this.ws = ws;
    this.claims = claims;
    this.daemon = daemon;
    this.ip = ip;
    this.workspace = claims.workspaceId().toString();
    this.publisher = publisher;
    this.lastHeardNanos = now;
  }

  void hold() {
    if (holds++ == 0 && !closed) {
      ws.pause();
    }
  }

  void release() {
    if (holds > 0 && --holds == 0 && !closed) {
      ws.resume();
    }
  }

  String role() {
    return daemon ? "daemon" : "client";
  }
}
