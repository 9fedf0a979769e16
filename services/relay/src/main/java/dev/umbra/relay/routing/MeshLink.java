package dev.umbra.relay.routing;

import dev.umbra.proto.relay.MeshDirection;
import dev.umbra.proto.relay.MeshSignal;
import dev.umbra.proto.relay.MeshSignalKind;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketBase;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One mesh link to another relay instance (docs/relay.md, "Mesh"): a WebSocket this instance opened
 * or accepted, carrying {@link RelayBusBatch} messages both ways. Its send queue is bounded in
 * bytes: frames sent while it is being opened wait in order, and a local sender whose frame takes
 * the queue over the bound is held (stops being read) until the queue drains below half. A route
 * the peer signalled PAUSE for holds the senders on it until RESUME. On the relay's event loop.
 */
final class MeshLink {
  /** A route of a link whose peer was told to pause because of a local connection's queue. */
  record Told(MeshLink link, String workspace, String target, long channel) {}

  /** Routes a peer may have paused at once; further PAUSE signals are ignored. */
  private static final int MAX_PAUSED = 10_000;

  final String peer;
  final boolean outbound;
  private final String origin;
  private final RelayMetrics metrics;
  private final long limitBytes;
  private final ArrayDeque<Buffer> pending = new ArrayDeque<>();
  private final Set<Connection> waiting = new LinkedHashSet<>();
  private final Map<String, Set<Connection>> paused = new HashMap<>();
  private WebSocketBase ws;
  private long queuedBytes;
  private boolean down;
  long lastHeardNanos;
  long lastTrafficNanos;

  /** The workspace and target of the last frame from the peer that passed the envelope check. */
  String lastValidWorkspace;

  String lastValidTarget;

  MeshLink(String peer, boolean outbound, String origin, RelayMetrics metrics, long limitBytes) {
    this.peer = peer;
    this.outbound = outbound;
    this.origin = origin;
    this.metrics = metrics;
    this.limitBytes = limitBytes;
    this.lastHeardNanos = System.nanoTime();
    this.lastTrafficNanos = lastHeardNanos;
  }

  boolean isDown() {
    return down;
  }

  boolean isOpen() {
    return ws != null && !down;
  }

  long queuedBytes() {
    return queuedBytes;
  }

  /**
   * Sends one frame towards {@code to} on route {@code key} (a target key towards a daemon, a
   * channel key towards a client). {@code from}, the local sender (null for the relay's own
   * frames), is held while the queue is over its bound or the peer paused the route.
   */
  void send(MeshDirection to, RelayFrame f, Connection from, String key) {
    if (down) {
      metrics.drop(Drop.LINK_DOWN);
      return;
    }
    Buffer b =
        Buffer.buffer(
            RelayBusBatch.newBuilder()
                .setOrigin(origin)
                .setTo(to)
                .addFrames(f)
                .build()
                .toByteArray());
    metrics.meshOut();
    lastTrafficNanos = System.nanoTime();
    queuedBytes += b.length();
    if (ws == null) {
      pending.add(b);
    } else {
      write(b);
    }
    if (from == null) {
      return;
    }
    if (queuedBytes > limitBytes && waiting.add(from)) {
      from.hold();
    }
    Set<Connection> held = paused.get(key);
    if (held != null && held.add(from)) {
      from.hold();
    }
  }

  /** Route control to the peer (small, not counted against the queue); only on an open link. */
  void signal(MeshSignalKind kind, String workspace, String target, long channel) {
    if (!isOpen()) {
      return;
    }
    metrics.signal(kind, true);
    ws.writeBinaryMessage(
        Buffer.buffer(
            RelayBusBatch.newBuilder()
                .setOrigin(origin)
                .addSignals(
                    MeshSignal.newBuilder()
                        .setKind(kind)
                        .setWorkspaceId(workspace)
                        .setTargetId(target)
                        .setChannelId(channel))
                .build()
                .toByteArray()));
  }

  private void write(Buffer b) {
    int n = b.length();
    ws.writeBinaryMessage(b)
        .onComplete(
            ar -> {
              queuedBytes -= n;
              if (ar.failed()) {
                metrics.drop(Drop.LINK_DOWN);
              }
              releaseIfDrained();
            });
  }

  private void releaseIfDrained() {
    if (queuedBytes <= limitBytes / 2 && !waiting.isEmpty()) {
      List<Connection> w = new ArrayList<>(waiting);
      waiting.clear();
      w.forEach(Connection::release);
    }
  }

  /** The WebSocket is up: what waited goes out, in order. */
  void attach(WebSocketBase socket) {
    this.ws = socket;
    while (!pending.isEmpty()) {
      write(pending.poll());
    }
  }

  /** The peer's receiver on {@code key} is over its bound: senders on it are held from now on. */
  void pause(String key) {
    if (paused.size() < MAX_PAUSED) {
      paused.putIfAbsent(key, new LinkedHashSet<>());
    }
  }

  /** The peer's receiver on {@code key} drained: its held senders are read again. */
  void resume(String key) {
    Set<Connection> held = paused.remove(key);
    if (held != null) {
      held.forEach(Connection::release);
    }
  }

  /** A local connection went away: it is no longer waiting for anything here. */
  void forget(Connection c) {
    waiting.remove(c);
    for (Set<Connection> held : paused.values()) {
      held.remove(c);
    }
  }

  void ping() {
    if (isOpen()) {
      ws.writePing(Buffer.buffer());
    }
  }

  /** Closes the socket (if any) with {@code code} and {@code reason}; the caller takes it down. */
  void close(short code, RelayReason reason) {
    if (ws != null && !ws.isClosed()) {
      ws.close(code, RelayReasons.wire(reason));
    }
  }

  /** Whether a socket was ever attached (the link was open at some point). */
  boolean attached() {
    return ws != null;
  }

  /**
   * The link failed, closed or could not be opened: frames still waiting for it are dropped and
   * counted ({@code link_down}; the channel layer resends), held senders are read again.
   */
  void down() {
    if (down) {
      return;
    }
    down = true;
    for (Buffer b : pending) {
      queuedBytes -= b.length();
      metrics.drop(Drop.LINK_DOWN);
    }
    pending.clear();
    List<Connection> held = new ArrayList<>(waiting);
    waiting.clear();
    for (Set<Connection> s : paused.values()) {
      held.addAll(s);
    }
    paused.clear();
    held.forEach(Connection::release);
    if (ws != null && !ws.isClosed()) {
      ws.close();
    }
  }
}
