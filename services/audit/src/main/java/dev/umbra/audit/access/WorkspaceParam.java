package dev.umbra.audit.access;

import dev.umbra.kit.http.ApiException;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/** The {@code :workspace} path parameter: a canonical UUID. */
public final class WorkspaceParam {
  private WorkspaceParam() {}

  public static UUID of(RoutingContext ctx) {
    String raw = ctx.pathParam("workspace");
    try {
      UUID id = UUID.fromString(raw);
      if (id.toString().equals(raw.toLowerCase(java.util.Locale.ROOT))) {
        return id;
      }
    } catch (RuntimeException e) {
      // fall through
    }
    throw ApiException.badRequest("workspace", "workspace must be a UUID");
  }
}
