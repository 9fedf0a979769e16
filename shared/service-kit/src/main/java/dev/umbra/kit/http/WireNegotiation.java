package dev.umbra.kit.http;

import dev.umbra.proto.api.WireVersions;
import dev.umbra.proto.api.WireVersions.Chosen;
import dev.umbra.proto.api.WireVersions.Range;
import dev.umbra.proto.api.WireVersions.Refused;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Every service's answer to a client's {@code Umbra-Wire} header (docs/deploy.md, "Upgrades";
 * {@link WireVersions}), before any route, WebSocket upgrades included: the version chosen in the
 * same header of the answer, or HTTP 426 {@code unsupported_wire_version} with the service's range
 * in the header and a message naming both ranges and the side to upgrade. A malformed header (or
 * more than one) is a 400 {@code malformed_wire_version}. The header carries no secret; refusals
 * are counted by the side to upgrade ({@code umbra.http.wire_refused}).
 */
public final class WireNegotiation {
  /** Where a route finds the version chosen for its request ({@code ctx.get(CHOSEN)}). */
  public static final String CHOSEN = "umbra.wire.version";

  private WireNegotiation() {}

  /** The negotiation of a service speaking {@code service}. */
  public static Handler<RoutingContext> handler(
      Range service, MeterRegistry registry, String serviceName) {
    Counter malformed = refusals(registry, serviceName, "malformed");
    Counter upgradeClient = refusals(registry, serviceName, "client");
    Counter upgradeService = refusals(registry, serviceName, "service");
    return ctx -> {
      List<String> sent = ctx.request().headers().getAll(WireVersions.HEADER);
      WireVersions.Outcome outcome;
      try {
        if (sent.size() > 1) {
          throw new IllegalArgumentException(WireVersions.HEADER + " must be sent once");
        }
        outcome = WireVersions.negotiate(service, sent.stream().findFirst());
      } catch (IllegalArgumentException e) {
        malformed.increment();
        ServiceHttp.sendError(ctx, new ApiException(400, WireVersions.MALFORMED, e.getMessage()));
        return;
      }
      if (outcome instanceof Chosen chosen) {
        ctx.put(CHOSEN, chosen.version());
        ctx.response().putHeader(WireVersions.HEADER, Integer.toString(chosen.version()));
        ctx.next();
        return;
      }
      Refused refused = (Refused) outcome;
      (refused.upgrade() == WireVersions.Side.CLIENT ? upgradeClient : upgradeService).increment();
      JsonObject error =
          new JsonObject()
              .put("code", WireVersions.REFUSED)
              .put("message", refused.message())
              .put("client_versions", refused.client().header())
              .put("service_versions", refused.service().header())
              .put("upgrade", refused.upgrade().name().toLowerCase(Locale.ROOT));
      ctx.response()
          .setStatusCode(WireVersions.REFUSED_STATUS)
          .putHeader(WireVersions.HEADER, service.header())
          .putHeader("content-type", "application/json")
          .end(new JsonObject().put("error", error).encode());
    };
  }

  /** The version chosen for this request (1 when no negotiation ran, as in a bare test router). */
  public static int chosen(RoutingContext ctx) {
    return Optional.ofNullable(ctx.<Integer>get(CHOSEN)).orElse(1);
  }

  private static Counter refusals(MeterRegistry registry, String service, String upgrade) {
    return Counter.builder("umbra.http.wire_refused")
        .description("requests refused for their wire version, by the side to upgrade")
        .tag("service", service)
        .tag("upgrade", upgrade)
        .register(registry);
  }
}
