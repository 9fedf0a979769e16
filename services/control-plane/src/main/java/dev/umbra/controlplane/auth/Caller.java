package dev.umbra.controlplane.auth;

import dev.umbra.kit.http.ClientAddress;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * Who asks, as a service sees it: the authenticated principal and the address audit events name.
 */
public record Caller(Principal principal, String sourceIp) {
  public static Caller of(RoutingContext ctx, Principal principal) {
    return new Caller(principal, ClientAddress.forAudit(ctx));
  }

  public UUID accountId() {
    return principal.accountId();
  }
}
