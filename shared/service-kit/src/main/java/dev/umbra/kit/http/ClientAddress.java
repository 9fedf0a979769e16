package dev.umbra.kit.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * The caller's address for rate limits and audit events, resolved once per request by the router
 * ({@link #resolver}) through the service's {@link TrustedProxies}.
 */
public final class ClientAddress {
  private static final String KEY = "umbra.clientAddress";
  private static final String UNKNOWN = "unknown";

  private ClientAddress() {}

  /**
   * Router handler that resolves the address first thing; installed by {@link ServiceHttp#router}.
   */
  public static Handler<RoutingContext> resolver(TrustedProxies proxies) {
    if (proxies.isEmpty()) {
      return RoutingContext::next; // nobody trusted: the peer it is, read when asked
    }
    return ctx -> {
      ctx.put(
          KEY,
          proxies.clientAddress(peer(ctx), ctx.request().headers().getAll(TrustedProxies.HEADER)));
      ctx.next();
    };
  }

  /**
   * The resolved client address, or the direct peer's when no resolver ran; "unknown" without one.
   */
  public static String of(RoutingContext ctx) {
    String resolved = ctx.get(KEY);
    return resolved != null ? resolved : peer(ctx);
  }

  /** The same for an audit event's source IP, which is empty rather than "unknown". */
  public static String forAudit(RoutingContext ctx) {
    String a = of(ctx);
    return UNKNOWN.equals(a) ? "" : a;
  }

  private static String peer(RoutingContext ctx) {
    var addr = ctx.request().remoteAddress();
    return addr == null || addr.hostAddress() == null ? UNKNOWN : addr.hostAddress();
  }
}
