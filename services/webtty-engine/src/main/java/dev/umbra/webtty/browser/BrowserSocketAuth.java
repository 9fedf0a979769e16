package dev.umbra.webtty.browser;

import dev.umbra.kit.http.BrowserOrigin;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;

/**
 * How the browser app (served by the control plane at {@code /app/}, docs/web.md) presents its
 * session token on the client WebSocket: a browser cannot set {@code Authorization} on a WebSocket,
 * so the page offers two subprotocols, {@value #PROTOCOL} (the one the engine selects and echoes,
 * so the token is never sent back) and {@value #BEARER_PREFIX}{@code <session token>}. The engine
 * takes a token from there only when the request's {@code Origin} is the control plane's public
 * origin: another site's page gets no WebSocket, whatever token it holds. Without an {@code
 * Origin}, or with the header, nothing changes for the CLI and the daemon ({@code Authorization}).
 */
public final class BrowserSocketAuth {
  /** The subprotocol the browser offers and the engine selects (the wire is WebTTY v2). */
  public static final String PROTOCOL = "umbra.webtty.v2";

  /** The prefix of the subprotocol that carries the session token. */
  public static final String BEARER_PREFIX = "umbra.bearer.";

  private final BrowserOrigin app;

  private BrowserSocketAuth(BrowserOrigin app) {
    this.app = app;
  }

  /** For pages of the control plane at {@code controlPlane} (its public URL). */
  public static BrowserSocketAuth of(URI controlPlane) {
    return new BrowserSocketAuth(BrowserOrigin.of(controlPlane));
  }

  public String origin() {
    return app.origin();
  }

  /** What the upgrade request says: a token the browser offered, or why it is refused. */
  public record Offer(String token, boolean foreignOrigin) {}

  /**
   * The session token of a browser's upgrade request: {@code null} token when the request offers
   * none (then the {@code Authorization} header is the way), {@code foreignOrigin} when it offers
   * one from a page of another origin (refused).
   */
  public Offer offered(RoutingContext ctx) {
    String protocols = ctx.request().getHeader("sec-websocket-protocol");
    if (protocols == null) {
      return new Offer(null, false);
    }
    String token = null;
    for (String p : protocols.split(",")) {
      String t = p.trim();
      if (t.startsWith(BEARER_PREFIX) && t.length() > BEARER_PREFIX.length()) {
        token = t.substring(BEARER_PREFIX.length());
      }
    }
    if (token == null) {
      return new Offer(null, false);
    }
    return app.isApp(ctx.request().getHeader("origin"))
        ? new Offer(token, false)
        : new Offer(null, true);
  }

  /**
   * CORS for the recordings routes (list and download, docs/web.md "Recordings"): the control
   * plane's origin, and only it, may read them; a preflight of a {@code GET} with an {@code
   * Authorization} header is answered before authentication (a preflight carries no credential).
   * {@code Access-Control-Allow-Credentials} is never sent: the page sends its bearer token itself,
   * no cookie is involved. Another origin or none (the CLI) gets no CORS header.
   */
  public void recordingsCors(RoutingContext ctx) {
    app.cors(ctx, "authorization");
  }
}
