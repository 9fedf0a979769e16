package dev.umbra.relay.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Publishes one connection's frames to other instances in order. The bus may run concurrent
 * publishes on different Redis connections, which could reorder them, so at most one round of
 * publishes is in flight per connection; frames arriving meanwhile are batched per topic and sent
 * as one {@link RelayBusBatch} when it completes. Pending bytes are bounded: past the limit the
 * connection is held (stops reading) until the round completes. Completions hop back to the
 * relay's event loop: the bus may complete them on its own connection's thread.
 */
final class BusPublisher {
  /** Called for a frame whose publish reached no instance (0 receivers) or failed. */
  interface Undelivered {
    void run(RelayFrame frame, boolean busError);
  }

  private record Item(RelayFrame frame, Undelivered undelivered) {}

  private final Bus bus;
  private final Context context;
  private final String origin;
  private final RelayMetrics metrics;
  private final int limitBytes;
  private Connection owner;
  private Map<String, List<Item>> pending = new LinkedHashMap<>();
  private int pendingBytes;
  private boolean inFlight;
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
    pending.computeIfAbsent(topic, t -> new ArrayList<>()).add(new Item(frame, undelivered));
    pendingBytes += frame.getSerializedSize();
    if (pendingBytes > limitBytes && !holding && owner != null) {
      holding = true;
      owner.hold();
    }
    if (!inFlight) {
      flush();
    }
  }

  private void flush() {
    if (pending.isEmpty()) {
      inFlight = false;
      if (holding) {
        holding = false;
        owner.release();
      }
      return;
    }
    inFlight = true;
    Map<String, List<Item>> round = pending;
    pending = new LinkedHashMap<>();
    pendingBytes = 0;
    List<Future<?>> sends = new ArrayList<>(round.size());
    for (Map.Entry<String, List<Item>> e : round.entrySet()) {
      List<Item> items = e.getValue();
      RelayBusBatch.Builder batch = RelayBusBatch.newBuilder().setOrigin(origin);
      for (Item i : items) {
        batch.addFrames(i.frame);
      }
      metrics.hopOut(items.size());
      sends.add(
          Switchboard.onLoop(context, bus.publish(e.getKey(), Buffer.buffer(batch.build().toByteArray())))
              .onSuccess(n -> {
                if (n == 0) {
                  items.forEach(i -> i.undelivered.run(i.frame, false));
                }
              })
              .onFailure(x -> items.forEach(i -> i.undelivered.run(i.frame, true))));
    }
    Future.join(sends).onComplete(x -> flush());
  }
}
