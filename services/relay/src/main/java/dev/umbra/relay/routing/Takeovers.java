package dev.umbra.relay.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * The takeover protocol between instances (docs/relay.md, "Routing"): a daemon that registers here
 * is announced on its target's topic, where an instance holding an older connection of the same
 * target closes it ({@code 4000 replaced}), and on {@code umbra.relay.routes}, where every mesh
 * drops its cached route to the target. On the relay's event loop.
 */
final class Takeovers {
  private final Switchboard board;
  private final Bus bus;
  private final String instance;
  private final Mesh mesh;

  Takeovers(Switchboard board, Bus bus, String instance, Mesh mesh) {
    this.board = board;
    this.bus = bus;
    this.instance = instance;
    this.mesh = mesh;
  }

  /**
   * Tells the other instances that daemon {@code c} registered here with {@code register} (at
   * {@code c.registeredAt}): they drop older connections of its target, and the mesh its cached
   * route to the target.
   */
  Future<Void> announce(Connection c, RelayFrame register) {
    RelayFrame takeover = RelayFrame.newBuilder(register).setSequence(c.registeredAt).build();
    Buffer notice =
        Buffer.buffer(
            RelayBusBatch.newBuilder()
                .setOrigin(instance)
                .addFrames(takeover)
                .build()
                .toByteArray());
    return bus.publish(Topics.targetTopic(c.workspace, c.target), notice)
        .compose(n -> mesh.announceTakeover(notice));
  }

  /**
   * A REGISTER frame from {@code origin} on target key {@code tk}'s topic: the daemon of that
   * target held here is replaced unless it registered after the notice's daemon.
   */
  void onRegister(String tk, String origin, RelayFrame f) {
    Connection d = board.localDaemon(tk);
    if (!instance.equals(origin) && d != null && d.registeredAt <= f.getSequence()) {
      board.replaced(d);
    }
  }
}
