package dev.umbra.relay.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.MeshDirection;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import dev.umbra.relay.wire.Reject;
import io.vertx.core.Context;

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

  PeerFallback(Bus bus, Context context, String instance, RelayMetrics metrics, int queueBytes) {
    this.publisher = new BusPublisher(bus, context, instance, metrics, queueBytes);
    this.metrics = metrics;
  }

  void publish(MeshLink l, RelayFrame f, boolean towardsDaemon) {
    String ws = f.getWorkspaceId();
    publisher.publish(
        towardsDaemon
            ? Topics.targetTopic(ws, f.getTargetId())
            : Topics.channelTopic(ws, f.getTargetId(), f.getChannelId()),
        f,
        (fr, busError) -> {
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
        });
  }
}
