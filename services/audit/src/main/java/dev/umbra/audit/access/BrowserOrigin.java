package dev.umbra.audit.access;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.Locale;

/**
 * Lets the browser app (served by the control plane at {@code /app/}, docs/web.md) read the audit
 * routes from its own origin: the control plane's public origin, and only it, gets {@code
 * Access-Control-Allow-Origin} on the workspace routes, and a preflight for a {@code GET} with an
 * {@code Authorization} header is answered before authentication (a preflight carries no
 * credential). Credentials stay the bearer session token the page sends itself: no cookie is
 * allowed ({@code Access-Control-Allow-Credentials} is never sent), so another origin gains nothing
 * it could not do with the token anyway, and a page of another origin cannot read answers.
 */
public final class BrowserOrigin {
  static final String MAX_AGE_SECONDS = "600";

  private final String origin;

  private BrowserOrigin(String origin) {
    this.origin = origin;
  }

  /** The origin ({@code scheme://host[:port]}) of the control plane's public URL. */
  public static BrowserOrigin of(URI controlPlane) {
    String scheme = controlPlane.getScheme().toLowerCase(Locale.ROOT);
    String host = controlPlane.getHost().toLowerCase(Locale.ROOT);
    return new BrowserOrigin(
        scheme + "://" + host + (controlPlane.getPort() < 0 ? "" : ":" + controlPlane.getPort()));
  }

  public String origin() {
    return origin;
  }

  /** A route handler: adds the CORS headers for the app's origin; answers its preflight. */
  public void handle(RoutingContext ctx) {
    String from = ctx.request().getHeader("origin");
    if (from == null || !from.equals(origin)) {
      ctx.next(); // no origin (the CLI) or another one: no CORS header, the browser refuses to read
      return;
    }
    ctx.response().putHeader("access-control-allow-origin", origin).putHeader("vary", "origin");
    if (ctx.request().method() == HttpMethod.OPTIONS
        && ctx.request().getHeader("access-control-request-method") != null) {
      ctx.response()
          .putHeader("access-control-allow-methods", "GET")
          .putHeader("access-control-allow-headers", "authorization, accept")
          .putHeader("access-control-max-age", MAX_AGE_SECONDS)
          .setStatusCode(204)
          .end();
      return;
    }
    ctx.next();
  }
}
