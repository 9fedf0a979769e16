package dev.umbra.webtty.session;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.webtty.metrics.EngineMetrics;
import io.vertx.core.buffer.Buffer;

/**
 * A new home's takeover notice (docs/webtty.md, "A home's death"): once a resumed session's channel
 * listens (so a re-join finds it), its new home tells every instance on {@link
 * BusNames#WEBTTY_TAKEOVERS}, so the participants still connected through a living edge to the dead
 * home are moved ({@link EdgeRouter#onTakeover}). One message per takeover; lost (Redis down), they
 * notice when their own connection breaks, as before.
 */
final class TakeoverNotice {
  private TakeoverNotice() {}

  static void announce(Bus bus, EngineMetrics metrics, String instanceId, String sessionId) {
    WebTtyBusMessage notice =
        WebTtyBusMessage.newBuilder()
            .setOrigin(instanceId)
            .setDirection(BusDirection.BUS_DIRECTION_TAKEOVER)
            .setSessionId(sessionId)
            .build();
    bus.publish(BusNames.WEBTTY_TAKEOVERS, Buffer.buffer(notice.toByteArray()))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                metrics.forwarded("takeover");
              } else {
                metrics.dropped("takeover_unannounced");
              }
            });
  }
}
