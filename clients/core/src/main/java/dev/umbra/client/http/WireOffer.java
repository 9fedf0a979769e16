package dev.umbra.client.http;

import dev.umbra.proto.api.WireVersions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.Optional;

/**
 * The client's side of the wire-version negotiation (docs/deploy.md, "Upgrades"; {@link
 * WireVersions}) for WebSocket upgrades: the versions this build speaks on every upgrade, and a
 * service's refusal (HTTP 426 with its own range) turned into one line that names both ranges and
 * the side to upgrade. {@link JsonHttp} sends the same header on every API request.
 */
public final class WireOffer {
  private WireOffer() {}

  /** {@code o} with the {@code Umbra-Wire} header of this build. */
  public static WebSocketConnectOptions offer(WebSocketConnectOptions o) {
    return o.addHeader(WireVersions.HEADER, WireVersions.THIS_BUILD.header());
  }

  /** The refusal's line when {@code e} is a service refusing this build's wire versions. */
  public static Optional<String> refusal(Throwable e) {
    if (e instanceof UpgradeRejectedException u && u.getStatus() == WireVersions.REFUSED_STATUS) {
      String range = u.getHeaders() == null ? null : u.getHeaders().get(WireVersions.HEADER);
      return Optional.of(WireVersions.refusal(WireVersions.THIS_BUILD, Optional.ofNullable(range)));
    }
    return Optional.empty();
  }

  /** What went wrong connecting: a wire refusal's line, else the failure's message. */
  public static String describe(Throwable e) {
    return refusal(e).orElseGet(() -> String.valueOf(e.getMessage()));
  }
}
