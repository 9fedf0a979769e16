package dev.umbra.relay.routing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;

/**
 * Frames from other instances over the bus (docs/relay.md, "Routing"): on a target's topic towards
 * the daemon registered here (and the takeover notices of that target, {@link Takeovers}), on a
 * channel's topic towards the client bound to it here. On the relay's event loop.
 */
final class BusInbound {
  private final Switchboard board;
  private final RelayMetrics metrics;
  private final Delivery delivery;
  private final Mesh mesh;
  private final Takeovers takeovers;

  BusInbound(
      Switchboard board, RelayMetrics metrics, Delivery delivery, Mesh mesh, Takeovers takeovers) {
    this.board = board;
    this.metrics = metrics;
    this.delivery = delivery;
    this.mesh = mesh;
    this.takeovers = takeovers;
  }

  private RelayBusBatch batch(BusMessage m) {
    try {
      return RelayWire.parseBatch(m.body());
    } catch (InvalidProtocolBufferException e) {
      metrics.reject(Reject.MALFORMED);
      return null;
    }
  }

  /** A message on {@code topic}, the topic of target key {@code tk}. */
  void toDaemon(String tk, String topic, BusMessage m) {
    if (Takeovers.sealed(m.body())) {
      takeovers.onTarget(tk, topic, m.body()); // before any parsing
      return;
    }
    RelayBusBatch b = batch(m);
    if (b == null) {
      return;
    }
    for (RelayFrame f : b.getFramesList()) {
      if (f.getType() == FrameType.FRAME_TYPE_REGISTER) {
        takeovers.unsealed(); // forged, or an older instance's: a takeover is sealed
        continue;
      }
      Connection d = board.localDaemon(tk);
      metrics.hopIn(1);
      // the channel's client is reached over the bus now, not behind a mesh link
      mesh.forgetChannel(Topics.channelKey(f.getWorkspaceId(), f.getTargetId(), f.getChannelId()));
      if (d == null || !d.workspace.equals(f.getWorkspaceId())) {
        metrics.drop(Drop.NO_ROUTE);
      } else {
        delivery.deliverRemote(d, f);
      }
    }
  }

  /** A message on the topic of channel key {@code ck}. */
  void toClient(String ck, BusMessage m) {
    RelayBusBatch b = batch(m);
    if (b == null) {
      return;
    }
    for (RelayFrame f : b.getFramesList()) {
      metrics.hopIn(1);
      Connection c = board.localClient(ck);
      if (c == null || !c.workspace.equals(f.getWorkspaceId())) {
        metrics.drop(Drop.NO_ROUTE);
        continue;
      }
      board.seenByClient(c, ck, f);
      delivery.deliverRemote(c, f);
      if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
        board.unbindChannel(ck);
      }
    }
  }
}
