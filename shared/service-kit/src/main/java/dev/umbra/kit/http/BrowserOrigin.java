package dev.umbra.kit.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.Locale;

/**
 * The browser app's origin (docs/web.md): the app is served by the control plane at {@code /app/},
 * so its pages come from the control plane's public origin, and a service that lets the page read
 * some of its routes (the audit service's workspace routes, the engine's recordings) allows that
 * origin and no other. {@link #cors} adds {@code Access-Control-Allow-Origin} for it and answers
 * its preflight of a {@code GET} before authentication (a preflight carries no credential).
 * Credentials stay the bearer session token the page sends itself: no cookie is allowed ({@code
 * Access-Control-Allow-Credentials} is never sent), so another origin gains nothing it could not do
 * with the token anyway, and a page of another origin cannot read answers. No {@code Origin} (the
 * CLI, the daemon) or another one: no CORS header.
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

  /** Whether a request's {@code Origin} header (null: none) is the app's. */
  public boolean isApp(String originHeader) {
    return originHeader != null && originHeader.equals(origin);
  }

  /**
   * A route handler: for a request of the app's origin, the CORS headers; its preflight is answered
   * (204) with {@code GET} and the request headers {@code allowHeaders} allowed. Everything else
   * goes on to the next handler.
   */
  public void cors(RoutingContext ctx, String allowHeaders) {
    if (!isApp(ctx.request().getHeader("origin"))) {
      ctx.next(); // no origin (the CLI) or another one: no CORS header, the browser refuses to read
      return;
    }
    ctx.response().putHeader("access-control-allow-origin", origin).putHeader("vary", "origin");
    if (ctx.request().method() != HttpMethod.OPTIONS
        || ctx.request().getHeader("access-control-request-method") == null) {
      ctx.next();
      return;
    }
    ctx.response()
        .putHeader("access-control-allow-methods", "GET")
        .putHeader("access-control-allow-headers", allowHeaders)
        .putHeader("access-control-max-age", MAX_AGE_SECONDS)
        .setStatusCode(204)
        .end();
  }
}
