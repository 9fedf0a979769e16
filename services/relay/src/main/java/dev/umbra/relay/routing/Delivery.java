package dev.umbra.relay.routing;

import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writing to connections (docs/relay.md, "Limits"): a local sender is paused while its receiver's
 * queue is full and never dropped; a frame from another instance has nobody to pause and is dropped
 * and counted; the relay's own frames (ERROR, CLOSE, REGISTERED) are skipped on a full queue. On
 * the relay verticle's event loop, like the {@link Switchboard} that calls it.
 */
final class Delivery {
  private static final Logger log = LoggerFactory.getLogger(Switchboard.class);

  private final RelayMetrics metrics;
  private final long queueBytes;

  Delivery(RelayMetrics metrics, long queueBytes) {
    this.metrics = metrics;
    this.queueBytes = queueBytes;
  }

  /**
   * From a local sender: never dropped; the sender stops reading while the receiver's queue is
   * full.
   */
  void deliverLocal(Connection from, Connection to, Buffer raw) {
    if (to.closed) {
      metrics.drop(Drop.NO_ROUTE);
      return;
    }
    to.ws.writeBinaryMessage(raw);
    if (to.ws.writeQueueFull() && to.waiting.add(from)) {
      from.waitingOn.add(to);
      from.hold();
    }
  }

  /**
   * From another instance: nobody to pause, so a full queue drops the frame (the channel layer
   * resends).
   */
  void deliverRemote(Connection to, RelayFrame f) {
    if (to.closed) {
      metrics.drop(Drop.NO_ROUTE);
    } else if (to.ws.writeQueueFull()) {
      metrics.drop(Drop.QUEUE_FULL);
    } else {
      to.ws.writeBinaryMessage(RelayWire.wrap(f.toByteArray()));
    }
  }

  /**
   * From a mesh link, whose sender is paused by a signal rather than by a held socket: written
   * while the frames from links waiting in the receiver's queue are under twice its bound (room for
   * what is in flight while the pause travels), else dropped and counted. True when they are over
   * half the bound (or the queue is full), so the sender on that route must pause; {@code drained}
   * runs when a write brings them back under a quarter of it.
   */
  boolean deliverFromLink(Connection to, Buffer frame, Runnable drained) {
    if (to.linkBytes > 2 * queueBytes) {
      metrics.drop(Drop.QUEUE_FULL);
      return true;
    }
    Buffer b = frame;
    int n = b.length();
    to.linkBytes += n;
    to.ws
        .writeBinaryMessage(b)
        .onComplete(
            ar -> {
              to.linkBytes -= n;
              if (!to.told.isEmpty() && to.linkBytes <= queueBytes / 4) {
                drained.run();
              }
            });
    return to.linkBytes > queueBytes / 2 || to.ws.writeQueueFull();
  }

  /** Resumes the senders paused on {@code c}'s full queue. */
  void releaseWaiting(Connection c) {
    if (c.waiting.isEmpty()) {
      return;
    }
    List<Connection> w = new ArrayList<>(c.waiting);
    c.waiting.clear();
    for (Connection sender : w) {
      sender.waitingOn.remove(c);
    }
    w.forEach(Connection::release);
  }

  /** A frame of the relay's own, unless the connection is closed or its queue full. */
  void send(Connection c, RelayFrame f) {
    if (!c.closed && !c.ws.writeQueueFull()) {
      c.ws.writeBinaryMessage(RelayWire.wrap(f.toByteArray()));
    }
  }

  /** Counts a refused frame and answers it with ERROR naming the reason. */
  void reject(Connection c, Reject reason, RelayFrame f) {
    metrics.reject(reason);
    log.atDebug()
        .addKeyValue("connection", c.id)
        .addKeyValue("reason", reason.tag())
        .addKeyValue("type", f == null ? "unparsed" : RelayWire.tag(f.getType()))
        .log("relay frame rejected");
    send(c, RelayFrames.error(c.workspace, f, reason.reason()));
  }
}
