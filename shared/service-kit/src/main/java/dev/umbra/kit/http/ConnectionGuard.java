package dev.umbra.kit.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection bounds of one service's HTTP server ({@link EdgeLimits}): refuses connections over
 * the global and per-address caps, and closes connections that sit idle between requests or take
 * too long to deliver a request (slowloris). A connection upgraded to a WebSocket leaves its care:
 * each WebSocket protocol of ours has its own liveness (pings, heartbeats, handshake deadlines).
 *
 * <p>Runs on the server's event loop: the connection and request handlers and the sweep timer are
 * all called on the verticle's context, so the state needs no locks.
 */
public final class ConnectionGuard {
  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final String CTX_KEY = "umbra.connectionGuard";

  /** Why a connection was refused or closed by the edge; the metric's {@code reason} label. */
  public enum Reason {
    GLOBAL_CAP("global_cap"),
    IP_CAP("ip_cap"),
    IDLE_TIMEOUT("idle_timeout"),
    REQUEST_TIMEOUT("request_timeout");

    private final String label;

    Reason(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private static final class Tracked {
    final String ip;
    HttpServerRequest current;
    long deadline;
    Reason onExpiry;

    /** The WebSocket the connection became; null while it is plain HTTP. */
    ServerWebSocket webSocket;

    Tracked(String ip) {
      this.ip = ip;
    }
  }

  private final EdgeLimits limits;
  private final TrustedProxies proxies;
  private final LongSupplier nanos;
  private final Map<HttpConnection, Tracked> open = new IdentityHashMap<>();
  private final Map<String, Integer> perIp = new HashMap<>();
  private final Map<Reason, Counter> refused = new EnumMap<>(Reason.class);
  private final Map<Reason, Counter> closed = new EnumMap<>(Reason.class);
  private long sweepTimer = -1;

  public ConnectionGuard(
      EdgeLimits limits,
      TrustedProxies proxies,
      MeterRegistry registry,
      String service,
      LongSupplier nanos) {
    this.limits = limits;
    this.proxies = proxies;
    this.nanos = nanos;
    for (Reason r : new Reason[] {Reason.GLOBAL_CAP, Reason.IP_CAP}) {
      refused.put(
          r,
          Counter.builder("umbra.http.connections.refused")
              .description("connections refused at accept by a connection cap")
              .tag("service", service)
              .tag("reason", r.label())
              .register(registry));
    }
    for (Reason r : new Reason[] {Reason.IDLE_TIMEOUT, Reason.REQUEST_TIMEOUT}) {
      closed.put(
          r,
          Counter.builder("umbra.http.connections.timed_out")
              .description("connections closed by the idle or request timeout")
              .tag("service", service)
              .tag("reason", r.label())
              .register(registry));
    }
    Gauge.builder("umbra.http.connections.open", open, Map::size)
        .description("open HTTP connections not upgraded to a WebSocket plus WebSockets")
        .tag("service", service)
        .register(registry);
  }

  /** Starts the periodic sweep that enforces the timeouts. */
  public void start(Vertx vertx) {
    long shortest = Math.min(limits.idleTimeout().toMillis(), limits.requestTimeout().toMillis());
    long every = Math.max(10, Math.min(1000, shortest / 5));
    sweepTimer = vertx.setPeriodic(every, t -> sweep());
  }

  public void stop(Vertx vertx) {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
  }

  /** For {@code HttpServer.connectionHandler}: admits or closes a new connection. */
  public Handler<HttpConnection> connectionHandler() {
    return this::accept;
  }

  /** Wraps the router: notes each request on its connection, then hands it on. */
  public Handler<HttpServerRequest> requestHandler(Handler<HttpServerRequest> next) {
    return req -> {
      Tracked t = open.get(req.connection());
      if (t != null) {
        t.current = req;
        t.deadline = nanos.getAsLong() + limits.requestTimeout().toNanos();
        t.onExpiry = Reason.REQUEST_TIMEOUT;
      }
      next.handle(req);
    };
  }

  /** Router handler making this guard reachable from routes ({@link #upgraded}). */
  public Handler<RoutingContext> contextHandler() {
    return ctx -> {
      ctx.put(CTX_KEY, this);
      ctx.next();
    };
  }

  /**
   * Marks the request's connection as the WebSocket {@code ws}, which the timeouts leave alone and
   * which the sweep forgets once it is closed. Vert.x never calls an upgraded connection's close
   * handler (the WebSocket takes over the channel), and the WebSocket's own close handler belongs
   * to the service: so the sweep asks {@link ServerWebSocket#isClosed()}. Before this, every
   * WebSocket ever opened stayed counted against its address's cap and the global one, and a
   * service refused every connection from an address after its 200th WebSocket (all of them after
   * the 3 000th).
   */
  public static void upgraded(RoutingContext ctx, ServerWebSocket ws) {
    ConnectionGuard g = ctx.get(CTX_KEY);
    if (g != null) {
      Tracked t = g.open.get(ctx.request().connection());
      if (t != null) {
        t.webSocket = ws;
      }
    }
  }

  private void accept(HttpConnection conn) {
    SocketAddress peer = conn.remoteAddress();
    String ip = peer == null || peer.hostAddress() == null ? "unknown" : peer.hostAddress();
    boolean countsPerIp = !isTrustedProxy(ip);
    if (open.size() >= limits.maxConnections()
        || (countsPerIp && perIp.getOrDefault(ip, 0) >= limits.maxConnectionsPerIp())) {
      // a cap is reached: first give back the places of WebSockets closed since the last sweep
      releaseClosedWebSockets();
    }
    if (open.size() >= limits.maxConnections()) {
      refuse(conn, Reason.GLOBAL_CAP);
      return;
    }
    if (countsPerIp && perIp.getOrDefault(ip, 0) >= limits.maxConnectionsPerIp()) {
      refuse(conn, Reason.IP_CAP);
      return;
    }
    Tracked t = new Tracked(countsPerIp ? ip : null);
    t.deadline = nanos.getAsLong() + firstByteWait();
    t.onExpiry = Reason.IDLE_TIMEOUT;
    open.put(conn, t);
    if (t.ip != null) {
      perIp.merge(ip, 1, Integer::sum);
    }
    conn.closeHandler(v -> forget(conn));
  }

  private void refuse(HttpConnection conn, Reason why) {
    refused.get(why).increment();
    log.debug("connection refused: {}", why.label());
    conn.close();
  }

  private void forget(HttpConnection conn) {
    Tracked t = open.remove(conn);
    if (t != null) {
      release(t);
    }
  }

  /** Gives back the address's place a connection no longer in {@link #open} held. */
  private void release(Tracked t) {
    if (t.ip != null) {
      perIp.computeIfPresent(t.ip, (k, n) -> n <= 1 ? null : n - 1);
    }
  }

  private boolean isTrustedProxy(String ip) {
    if (proxies.isEmpty()) {
      return false;
    }
    return TrustedProxies.literal(ip).map(proxies::trusts).orElse(false);
  }

  /**
   * How long a connection with no request under way may wait for the next request's head. The edge
   * cannot tell a silent connection from one trickling its head byte by byte, so both bounds apply:
   * the smaller wins.
   */
  private long firstByteWait() {
    return Math.min(limits.idleTimeout().toNanos(), limits.requestTimeout().toNanos());
  }

  /**
   * How long an answered connection may wait for its next request: the idle timeout, not the
   * smaller of it and the request timeout. Clients keep an answered connection for reuse (the JDK's
   * client 30 s, ours below the default 60 s); a server that closes it sooner races their next
   * request, which then fails as "connection closed" (or, seen with Vert.x's client, is never
   * answered) though nothing went wrong. The shorter wait bought nothing against a slowloris: a
   * client can hold a connection by sending a whole request within any wait.
   */
  private long keepAliveWait() {
    return limits.idleTimeout().toNanos();
  }

  private void releaseClosedWebSockets() {
    for (Iterator<Tracked> it = open.values().iterator(); it.hasNext(); ) {
      Tracked t = it.next();
      if (t.webSocket != null && t.webSocket.isClosed()) {
        it.remove();
        release(t);
      }
    }
  }

  private void sweep() {
    long now = nanos.getAsLong();
    for (Iterator<Map.Entry<HttpConnection, Tracked>> it = open.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<HttpConnection, Tracked> e = it.next();
      Tracked t = e.getValue();
      if (t.webSocket != null) {
        if (t.webSocket.isClosed()) {
          it.remove();
          release(t);
        }
        continue;
      }
      HttpServerRequest req = t.current;
      if (req != null && req.isEnded()) {
        if (req.response().ended() || req.response().closed()) {
          // answered: the connection now waits for its next request, for the idle timeout
          // (keepAliveWait)
          t.current = null;
          t.deadline = now + keepAliveWait();
          t.onExpiry = Reason.IDLE_TIMEOUT;
        } else {
          // received in full and being answered (or streaming, like an SSE tail): not the client's
          // delay
          t.deadline = now + limits.requestTimeout().toNanos();
        }
        continue;
      }
      if (now - t.deadline >= 0) {
        closed.get(t.onExpiry).increment();
        log.debug("connection closed: {}", t.onExpiry.label());
        e.getKey().close();
        // the close handler removes it; drop it now so it is not counted twice
        it.remove();
        release(t);
      }
    }
  }

  /** Open connections (tests, metrics). */
  public int openConnections() {
    return open.size();
  }
}
