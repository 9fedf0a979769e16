package dev.umbra.webtty.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.Delivery;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.webtty.metrics.EngineMetrics;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Ordered, batched publishing to the bus. Frames for one (channel, header) pair wait in one bounded
 * queue; while a publish is in flight, later frames accumulate and go out as one {@link
 * WebTtyBusMessage}, so order is kept and Redis sees few large messages under load. {@link #offer}
 * returns false when the queue is full (the caller decides: pause the source or close it); drops
 * are counted by the caller's reason. A publish that fails (Redis restarting) or reaches nobody
 * (the receiver's subscription is being restored after a Redis restart) is tried again, in order,
 * with a growing delay for up to {@link #RETRY_FOR}: a keystroke lost here would end the session at
 * the daemon ({@code input_gap}), so the queue holds it (and fills, which pauses or refuses the
 * source) rather than dropping it; only after that long is the batch dropped and counted. Confined
 * to the verticle's event loop.
 */
public final class BusOutbox {
  /** Frames waiting per queue before offers are refused. */
  public static final int MAX_QUEUED = 4_096;

  /** Frames per published message. */
  public static final int MAX_BATCH = 256;

  /** How long a failing batch is retried before it is dropped (a Redis restart, a 10 s pause). */
  public static final Duration RETRY_FOR = Duration.ofSeconds(30);

  /**
   * How long a batch that reached nobody is retried: long enough for a subscriber to resubscribe
   * after a Redis restart, short enough that frames for an instance that died are not held long.
   */
  public static final Duration NO_RECEIVER_FOR = Duration.ofSeconds(10);

  private static final long FIRST_RETRY_MS = 50;
  private static final long MAX_RETRY_MS = 1_000;

  private final Bus bus;
  private final EngineMetrics metrics;
  private final Map<String, Queue> queues = new HashMap<>();
  private Runnable onDrain = () -> {};

  private final class Queue {
    final String channel;
    final WebTtyBusMessage header;
    final ArrayDeque<Delivery> frames = new ArrayDeque<>();
    boolean inFlight;
    boolean withdrawn;
    long failingSinceNanos;
    long retryMs;

    Queue(String channel, WebTtyBusMessage header) {
      this.channel = channel;
      this.header = header;
    }
  }

  public BusOutbox(Bus bus, EngineMetrics metrics) {
    this.bus = bus;
    this.metrics = metrics;
  }

  /** Runs whenever a queue empties (sources paused for a full queue resume then). */
  public void onDrain(Runnable r) {
    this.onDrain = r;
  }

  /** Queues one frame of a participant's connection for the session home. */
  public boolean offer(String channel, WebTtyBusMessage header, WebTtyFrame frame) {
    return offer(channel, header, Delivery.newBuilder().setFrame(frame).build());
  }

  /**
   * Queues {@code delivery} for {@code channel} under {@code header} (a message without frames):
   * TO_HOME headers carry the frame alone, TO_PARTICIPANTS the delivery with its recipients.
   */
  public boolean offer(String channel, WebTtyBusMessage header, Delivery delivery) {
    String key = key(channel, header);
    Queue q = queues.computeIfAbsent(key, k -> new Queue(channel, header));
    if (q.frames.size() >= MAX_QUEUED) {
      return false;
    }
    q.frames.add(delivery);
    pump(key, q);
    return true;
  }

  private static String key(String channel, WebTtyBusMessage header) {
    return channel + '\n' + java.util.Base64.getEncoder().encodeToString(header.toByteArray());
  }

  /**
   * Drops what still waits for {@code channel} under {@code header}, counted as {@code
   * frames_dropped{reason="revoked_queued"}}: a revoked participant's frames, so a JOIN queued
   * while no instance homes its session does not reach the next home (docs/webtty.md, "A home's
   * death"). A batch Redis took already is not recalled; one being retried is not tried again.
   */
  public void withdraw(String channel, WebTtyBusMessage header) {
    String key = key(channel, header);
    Queue q = queues.get(key);
    if (q == null) {
      return;
    }
    for (int i = 0; i < q.frames.size(); i++) {
      metrics.dropped("revoked_queued");
    }
    q.frames.clear();
    q.withdrawn = true;
    if (!q.inFlight) {
      queues.remove(key, q);
      onDrain.run();
    }
  }

  public boolean pressured() {
    for (Queue q : queues.values()) {
      if (q.frames.size() >= MAX_QUEUED / 2) {
        return true;
      }
    }
    return false;
  }

  private void pump(String key, Queue q) {
    if (q.withdrawn) {
      queues.remove(key, q); // a retry's timer after the withdrawal
      onDrain.run();
      return;
    }
    if (q.inFlight || q.frames.isEmpty()) {
      return;
    }
    WebTtyBusMessage.Builder msg = q.header.toBuilder();
    List<Delivery> batch = new ArrayList<>();
    for (int i = 0; i < MAX_BATCH && !q.frames.isEmpty(); i++) {
      Delivery d = q.frames.poll();
      batch.add(d);
      if (q.header.getDirection() == BusDirection.BUS_DIRECTION_TO_HOME) {
        msg.addFrames(d.getFrame());
      } else {
        msg.addDeliveries(d);
      }
    }
    q.inFlight = true;
    bus.publish(q.channel, Buffer.buffer(msg.build().toByteArray()))
        .onComplete(
            ar -> {
              q.inFlight = false;
              if (q.withdrawn) {
                if (ar.failed() || ar.result() == 0) {
                  batch.forEach(d -> metrics.dropped("revoked_queued"));
                }
                pump(key, q);
                return;
              }
              if (ar.failed() || ar.result() == 0) {
                if (retry(key, q, batch, ar.failed() ? RETRY_FOR : NO_RECEIVER_FOR)) {
                  return;
                }
                metrics.dropped(ar.failed() ? "bus_publish_failed" : "bus_no_receiver");
              } else {
                q.failingSinceNanos = 0;
              }
              if (q.frames.isEmpty()) {
                queues.remove(key, q);
                onDrain.run();
              } else {
                pump(key, q);
              }
            });
  }

  /** Puts {@code batch} back in front and publishes it again later; false once it is too late. */
  private boolean retry(String key, Queue q, List<Delivery> batch, Duration bound) {
    Context ctx = Vertx.currentContext();
    long now = System.nanoTime();
    if (q.failingSinceNanos == 0) {
      q.failingSinceNanos = now;
      q.retryMs = FIRST_RETRY_MS;
    }
    if (ctx == null || now - q.failingSinceNanos > bound.toNanos()) {
      q.failingSinceNanos = 0;
      return false;
    }
    for (int i = batch.size() - 1; i >= 0; i--) {
      q.frames.addFirst(batch.get(i));
    }
    metrics.publishRetried();
    q.inFlight = true; // nothing overtakes the batch meanwhile
    long delay = q.retryMs;
    q.retryMs = Math.min(MAX_RETRY_MS, q.retryMs * 2);
    ctx.owner()
        .setTimer(
            delay,
            t -> {
              q.inFlight = false;
              pump(key, q);
            });
    return true;
  }
}
