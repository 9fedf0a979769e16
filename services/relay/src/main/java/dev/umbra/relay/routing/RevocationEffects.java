package dev.umbra.relay.routing;

import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a revocation does to an instance's connections (docs/relay.md, "Revocations"): the
 * workspace's daemons are told to re-check their pin (TRUST_CHANGED), then the connections whose
 * session it voids are closed (4003 {@code revoked}). On the relay verticle's event loop.
 */
final class RevocationEffects {
  private static final Logger log = LoggerFactory.getLogger(Switchboard.class);

  private final RelayMetrics metrics;
  private final Delivery delivery;

  RevocationEffects(RelayMetrics metrics, Delivery delivery) {
    this.metrics = metrics;
    this.delivery = delivery;
  }

  /**
   * Applies {@code r} to {@code connections}; {@code closeRevoked} ends one whose session it voids.
   */
  void apply(Revoked r, List<Connection> connections, Consumer<Connection> closeRevoked) {
    String ws = r.workspaceId().toString();
    int closed = 0;
    int hinted = 0;
    for (Connection c : connections) {
      if (!c.workspace.equals(ws)) {
        continue;
      }
      if (c.daemon && c.target != null && !c.closed) {
        // the hint goes out before any close, so a daemon losing a member's channels also re-checks
        // the rest
        // counted before the write: the daemon may read the frame before this thread goes on
        metrics.trustHint();
        hinted++;
        delivery.send(
            c,
            RelayFrame.newBuilder()
                .setType(FrameType.FRAME_TYPE_TRUST_CHANGED)
                .setWorkspaceId(c.workspace)
                .setTargetId(c.target)
                .build());
      }
      if (r.endsLive(c.claims)) {
        metrics.revoked();
        closeRevoked.accept(c);
        closed++;
      }
    }
    log.atInfo()
        .addKeyValue("workspace", ws)
        .addKeyValue("kind", r.kind().name())
        .addKeyValue("closed", closed)
        .addKeyValue("daemons_told", hinted)
        .log("revocation applied");
  }
}
