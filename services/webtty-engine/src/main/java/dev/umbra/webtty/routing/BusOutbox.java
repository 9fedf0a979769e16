package dev.umbra.webtty.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.Delivery;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.webtty.metrics.EngineMetrics;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Ordered, batched publishing to the bus. Frames for one (channel, header) pair wait in one bounded
 * queue; while a publish is in flight, later frames accumulate and go out as one {@link
 * WebTtyBusMessage}, so order is kept and Redis sees few large messages under load. {@link #offer}
 * returns false when the queue is full (the caller decides: pause the source or close it); drops
 * are counted by the caller's reason. Confined to the verticle's event loop.
 */
public final class BusOutbox {
  /** Frames waiting per queue before offers are refused. */
  public static final int MAX_QUEUED = 4_096;

  /** Frames per published message. */
  public static final int MAX_BATCH = 256;

  private final Bus bus;
  private final EngineMetrics metrics;
  private final Map<String, Queue> queues = new HashMap<>();
  private Runnable onDrain = () -> {};

  private final class Queue {
    final String channel;
    final WebTtyBusMessage header;
    final ArrayDeque<Delivery> frames = new ArrayDeque<>();
    boolean inFlight;

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
    String key =
        channel + '\n' + java.util.Base64.getEncoder().encodeToString(header.toByteArray());
    Queue q = queues.computeIfAbsent(key, k -> new Queue(channel, header));
    if (q.frames.size() >= MAX_QUEUED) {
      return false;
    }
    q.frames.add(delivery);
    pump(key, q);
    return true;
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
    if (q.inFlight || q.frames.isEmpty()) {
      return;
    }
    WebTtyBusMessage.Builder msg = q.header.toBuilder();
    for (int i = 0; i < MAX_BATCH && !q.frames.isEmpty(); i++) {
      Delivery d = q.frames.poll();
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
              if (ar.failed()) {
                metrics.dropped("bus_publish_failed");
              }
              if (q.frames.isEmpty()) {
                queues.remove(key, q);
                onDrain.run();
              } else {
                pump(key, q);
              }
            });
  }
}
