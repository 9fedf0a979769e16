package dev.umbra.webtty.session;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.SealedNotices;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.webtty.metrics.EngineMetrics;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.util.Optional;

/**
 * A new home's takeover notice (docs/webtty.md, "A home's death"): once a resumed session's channel
 * listens (so a re-join finds it), its new home tells every instance on {@link
 * BusNames#WEBTTY_TAKEOVERS}, so the participants still connected through a living edge to the dead
 * home are moved ({@link EdgeRouter#onTakeover}). One message per takeover; lost (Redis down), they
 * notice when their own connection breaks, as before.
 *
 * <p>A notice closes live connections, so it is sealed ({@link SealedNotices}, domain {@code
 * umbra-webtty-takeover/v1}; docs/webtty.md, "Takeover notices on the bus"): an edge acts only on
 * one MAC'd under the internal credential, in time and not seen before, checked before parsing;
 * refusals are counted in {@code
 * umbra_webtty_engine_bus_notices_refused_total{type="takeover",reason}}.
 */
final class TakeoverNotice {
  /** Largest notice: origin and session ids (ULIDs, UUIDs) and the direction, generously. */
  static final int MAX_NOTICE = 512;

  private static final String TYPE = "takeover";

  private final Bus bus;
  private final EngineMetrics metrics;
  private final String instanceId;
  private final SealedNotices seals;

  TakeoverNotice(
      Bus bus, EngineMetrics metrics, String instanceId, String credential, Clock clock) {
    this.bus = bus;
    this.metrics = metrics;
    this.instanceId = instanceId;
    this.seals =
        new SealedNotices(
            credential, CryptoConstants.WEBTTY_TAKEOVER_DOMAIN, MAX_NOTICE, clock::millis);
  }

  /** Tells every edge this instance is {@code sessionId}'s home now. */
  void announce(String sessionId) {
    WebTtyBusMessage notice =
        WebTtyBusMessage.newBuilder()
            .setOrigin(instanceId)
            .setDirection(BusDirection.BUS_DIRECTION_TAKEOVER)
            .setSessionId(sessionId)
            .build();
    bus.publish(
            BusNames.WEBTTY_TAKEOVERS, seals.seal(BusNames.WEBTTY_TAKEOVERS, notice.toByteArray()))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                metrics.forwarded(TYPE);
              } else {
                metrics.dropped("takeover_unannounced");
              }
            });
  }

  /**
   * The takeover of a body received on {@link BusNames#WEBTTY_TAKEOVERS}, or empty when it is
   * refused (counted): sealed, in time, new, then a TAKEOVER naming an origin and a session.
   */
  Optional<WebTtyBusMessage> open(Buffer body) {
    SealedNotices.Opened o = seals.open(BusNames.WEBTTY_TAKEOVERS, body);
    if (o.refusal() != null) {
      return refused(o.refusal());
    }
    try {
      WebTtyBusMessage m = WebTtyBusMessage.parseFrom(o.notice());
      if (m.getDirection() != BusDirection.BUS_DIRECTION_TAKEOVER
          || m.getOrigin().isEmpty()
          || m.getSessionId().isEmpty()
          || m.getFramesCount() > 0
          || m.getDeliveriesCount() > 0) {
        return refused(SealedNotices.Refusal.MALFORMED);
      }
      return Optional.of(m);
    } catch (InvalidProtocolBufferException e) {
      return refused(SealedNotices.Refusal.MALFORMED);
    }
  }

  private Optional<WebTtyBusMessage> refused(SealedNotices.Refusal r) {
    metrics.noticeRefused(TYPE, r.tag);
    return Optional.empty();
  }
}
