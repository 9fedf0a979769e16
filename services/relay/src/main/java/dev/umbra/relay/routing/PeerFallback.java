package dev.umbra.relay.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.MeshDirection;
import dev.umbra.proto.relay.MeshSignalKind;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import dev.umbra.relay.wire.Reject;
import io.vertx.core.Context;
import java.util.function.Consumer;

/**
 * Frames a peer sent over a mesh link for a route this instance does not hold (any more): passed on
 * over the bus, where the holder, if any, listens, so a moved daemon or client loses nothing while
 * the peer's cached route is corrected. An OPEN nobody receives is answered CLOSE {@code
 * unknown_target} back over the link, as the client's own instance would have. On the relay's event
 * loop.
 */
final class PeerFallback {
  private final BusPublisher publisher;
  private final RelayMetrics metrics;
  private final NoRouteGate gate;

  PeerFallback(Bus bus, Context context, String instance, RelayMetrics metrics, int queueBytes) {
    this.publisher = new BusPublisher(bus, context, instance, metrics, queueBytes);
    this.metrics = metrics;
    this.gate = new NoRouteGate(metrics);
  }

  /**
   * Answers {@code f}, which came over {@code l} for a route ({@code key}) not held here: the peer
   * is told {@code no_route} and the frame goes on over the bus, both bounded per link and route
   * ({@link NoRouteGate}) so a peer, or a client on a stale route, cannot turn each frame into a
   * signal and a Redis publish.
   */
  void noRoute(MeshLink l, RelayFrame f, long channel, String key, boolean towardsDaemon) {
    NoRouteGate.Miss miss = gate.miss(l, key, System.nanoTime());
    if (miss.first()) {
      l.signal(
          MeshSignalKind.MESH_SIGNAL_KIND_NO_ROUTE, f.getWorkspaceId(), f.getTargetId(), channel);
    }
    gate.publish(miss, answered -> publish(l, f, towardsDaemon, answered));
  }

  /** {@code l} went down: what was kept for its repeated misses goes. */
  void forget(MeshLink l) {
    gate.forget(l);
  }

  private void publish(
      MeshLink l, RelayFrame f, boolean towardsDaemon, Consumer<Boolean> answered) {
    String ws = f.getWorkspaceId();
    boolean[] nobody = {false};
    publisher.publish(
        towardsDaemon
            ? Topics.targetTopic(ws, f.getTargetId())
            : Topics.channelTopic(ws, f.getTargetId(), f.getChannelId()),
        f,
        (fr, busError) -> {
          nobody[0] = !busError;
          if (!busError && towardsDaemon && fr.getType() == FrameType.FRAME_TYPE_OPEN) {
            metrics.reject(Reject.UNKNOWN_TARGET);
            l.send(
                MeshDirection.MESH_DIRECTION_CLIENT,
                RelayFrames.close(ws, fr, Reject.UNKNOWN_TARGET.reason()),
                null,
                Topics.channelKey(ws, fr.getTargetId(), fr.getChannelId()));
          } else {
            metrics.drop(busError ? Drop.BUS_ERROR : Drop.NO_ROUTE);
          }
        },
        () -> answered.accept(nobody[0]));
  }
}
