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
import dev.umbra.relay.wire.RelayWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

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

  /** A batch message written (or waiting for the link to open): its frames and their bytes. */
  private record Queued(Buffer message, long bytes, int frames) {}

  /**
   * The frames of one direction routed this turn, not yet written: the batch's own fields (origin,
   * direction), then each frame's field tag and length followed by the frame's bytes as they came
   * in (a view, not a copy), as the parts of one message.
   */
  private static final class Batch {
    final List<ByteBuf> parts = new ArrayList<>();
    int frames;
    long bytes;

    void clear() {
      parts.clear();
      frames = 0;
      bytes = 0;
    }
  }

  /** Frames one message carries at most (the receiver refuses more, {@code Mesh}). */
  static final int MAX_BATCH_FRAMES = 64;

  /** A frame's field tag and length prefix in a batch, at most. */
  private static final int FRAME_TAG_BYTES = 4;

  /** Routes a peer may have paused at once; further PAUSE signals are ignored. */
  private static final int MAX_PAUSED = 10_000;

  final String peer;
  final boolean outbound;
  private final String origin;
  private final RelayMetrics metrics;
  private final long limitBytes;
  private final int maxBatchBytes;
  private final Consumer<Runnable> later;
  private final ArrayDeque<Queued> pending = new ArrayDeque<>();
  private final Batch toDaemons = new Batch();
  private final Batch toClients = new Batch();
  private final byte[] daemonsHead;
  private final byte[] clientsHead;
  private boolean flushScheduled;
  private final Set<Connection> waiting = new LinkedHashSet<>();
  private final Map<String, Set<Connection>> paused = new HashMap<>();
  private WebSocketBase ws;
  private long queuedBytes;
  private boolean down;
  long lastHeardNanos;
  long lastTrafficNanos;

  /** The keys of the last route the peer's frames took. */
  final RouteKeys keys = new RouteKeys();

  /** The workspace and target of the last frame from the peer that passed the envelope check. */
  String lastValidWorkspace;

  String lastValidTarget;

  /**
   * {@code maxBatchBytes}: the frame bytes one message may carry (the peer refuses a message over
   * its frame limit plus {@code RelayWire.MESH_OVERHEAD_BYTES}); {@code later}: runs a task on this
   * link's event loop once what it is doing now is done.
   */
  MeshLink(
      String peer,
      boolean outbound,
      String origin,
      RelayMetrics metrics,
      long limitBytes,
      int maxBatchBytes,
      Consumer<Runnable> later) {
    this.peer = peer;
    this.maxBatchBytes = maxBatchBytes;
    this.later = later;
    this.outbound = outbound;
    this.origin = origin;
    this.metrics = metrics;
    this.limitBytes = limitBytes;
    this.lastHeardNanos = System.nanoTime();
    this.lastTrafficNanos = lastHeardNanos;
    this.daemonsHead = head(origin, MeshDirection.MESH_DIRECTION_DAEMON);
    this.clientsHead = head(origin, MeshDirection.MESH_DIRECTION_CLIENT);
  }

  /** A batch message's fields other than its frames, serialized once per link and direction. */
  private static byte[] head(String origin, MeshDirection to) {
    return RelayBusBatch.newBuilder().setOrigin(origin).setTo(to).build().toByteArray();
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
   * frames), is held while the queue is over its bound or the peer paused the route. The frame
   * joins the batch of its direction, which goes out as one message when the event loop has
   * finished what it read this turn (or when it is full): one write, one flush and one read at the
   * peer for every frame routed to that peer in the same turn, instead of one each per frame.
   */
  void send(MeshDirection to, RelayFrame f, Connection from, String key) {
    send(to, f, RelayWire.wrap(f.toByteArray()), from, key);
  }

  /**
   * As {@link #send(MeshDirection, RelayFrame, Connection, String)}, with {@code raw}, the bytes
   * {@code f} was parsed from (and checked as): they go into the batch as they are, not serialized
   * again.
   */
  void send(MeshDirection to, RelayFrame f, Buffer raw, Connection from, String key) {
    if (down) {
      metrics.drop(Drop.LINK_DOWN);
      return;
    }
    int size = raw.length() + FRAME_TAG_BYTES;
    Batch b = to == MeshDirection.MESH_DIRECTION_DAEMON ? toDaemons : toClients;
    if (b.frames > 0 && (b.frames == MAX_BATCH_FRAMES || b.bytes + size > maxBatchBytes)) {
      flush(b);
    }
    if (b.frames == 0) {
      b.parts.add(
          Unpooled.wrappedBuffer(
              to == MeshDirection.MESH_DIRECTION_DAEMON ? daemonsHead : clientsHead));
      if (!flushScheduled) {
        flushScheduled = true;
        later.accept(this::flush);
      }
    }
    b.parts.add(RelayWire.frameFieldPrefix(raw.length()));
    b.parts.add(((BufferInternal) raw).getByteBuf());
    b.frames++;
    b.bytes += size;
    metrics.meshOut();
    lastTrafficNanos = System.nanoTime();
    queuedBytes += size;
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

  /** Sends both directions' batches (the end of an event-loop turn, or before a signal). */
  void flush() {
    flushScheduled = false;
    flush(toDaemons);
    flush(toClients);
  }

  private void flush(Batch b) {
    if (b.frames == 0 || down) {
      return;
    }
    Queued q = new Queued(BufferInternal.buffer(message(b)), b.bytes, b.frames);
    b.clear();
    if (ws == null) {
      pending.add(q);
    } else {
      write(q);
    }
  }

  /**
   * The batch as one message. On a link this instance opened, the WebSocket client masks every byte
   * it sends, reading the message eight bytes at a time: from the parts as they are (a composite)
   * each read looks up its part first, so the parts are copied into one buffer once instead (the
   * copy included, cheaper for 1 KiB and 32 KiB frames alike, docs/benchmarks.md). An accepted
   * link's messages go out unmasked, as the parts.
   */
  private ByteBuf message(Batch b) {
    if (!outbound) {
      return Unpooled.wrappedBuffer(b.parts.size(), b.parts.toArray(ByteBuf[]::new));
    }
    int size = 0;
    for (ByteBuf part : b.parts) {
      size += part.readableBytes();
    }
    ByteBuf flat = Unpooled.buffer(size);
    for (ByteBuf part : b.parts) {
      flat.writeBytes(part, part.readerIndex(), part.readableBytes());
    }
    return flat;
  }

  /** Route control to the peer (small, not counted against the queue); only on an open link. */
  void signal(MeshSignalKind kind, String workspace, String target, long channel) {
    if (!isOpen()) {
      return;
    }
    flush(); // frames routed before the signal stay before it
    metrics.signal(kind, true);
    ws.writeBinaryMessage(
        RelayWire.wrap(
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

  private void write(Queued q) {
    ws.writeBinaryMessage(q.message)
        .onComplete(
            ar -> {
              queuedBytes -= q.bytes;
              if (ar.failed()) {
                metrics.drop(Drop.LINK_DOWN, q.frames);
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
    flush();
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
    for (Batch b : List.of(toDaemons, toClients)) {
      queuedBytes -= b.bytes;
      metrics.drop(Drop.LINK_DOWN, b.frames);
      b.clear();
    }
    for (Queued q : pending) {
      queuedBytes -= q.bytes;
      metrics.drop(Drop.LINK_DOWN, q.frames);
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
