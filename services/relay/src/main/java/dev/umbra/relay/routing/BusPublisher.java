package dev.umbra.relay.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;

/**
 * Publishes one connection's frames to other instances. The bus keeps publishes from one context in
 * order (one pipelined Redis connection), so each frame goes out at once, without waiting for the
 * previous reply. Bytes in flight are bounded: past the limit the connection is held (stops
 * reading) until replies bring them back under half of it. Completions hop back to the relay's
 * event loop when the bus completes them elsewhere.
 */
final class BusPublisher {
  /** Called for a frame whose publish reached no instance (0 receivers) or failed. */
  interface Undelivered {
    void run(RelayFrame frame, boolean busError);
  }

  private final Bus bus;
  private final Context context;
  private final String origin;
  private final RelayMetrics metrics;
  private final int limitBytes;
  private Connection owner;
  private long inFlightBytes;
  private boolean holding;

  BusPublisher(Bus bus, Context context, String origin, RelayMetrics metrics, int limitBytes) {
    this.bus = bus;
    this.context = context;
    this.origin = origin;
    this.metrics = metrics;
    this.limitBytes = limitBytes;
  }

  void owner(Connection c) {
    this.owner = c;
  }

  void publish(String topic, RelayFrame frame, Undelivered undelivered) {
    publish(topic, frame, undelivered, () -> {});
  }

  /** As above; {@code answered} runs once the bus answered (after {@code undelivered}, if run). */
  void publish(String topic, RelayFrame frame, Undelivered undelivered, Runnable answered) {
    byte[] batch =
        RelayBusBatch.newBuilder().setOrigin(origin).addFrames(frame).build().toByteArray();
    int size = batch.length;
    inFlightBytes += size;
    if (inFlightBytes > limitBytes && !holding && owner != null) {
      holding = true;
      owner.hold();
    }
    metrics.hopOut(1);
    OnLoop.of(context, bus.publish(topic, Buffer.buffer(batch)))
        .onComplete(
            ar -> {
              inFlightBytes -= size;
              if (ar.failed()) {
                undelivered.run(frame, true);
              } else if (ar.result() == 0) {
                undelivered.run(frame, false);
              }
              if (holding && inFlightBytes <= limitBytes / 2) {
                holding = false;
                owner.release();
              }
              answered.run();
            });
  }
}
