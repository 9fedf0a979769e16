package dev.umbra.webtty.browser;

import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.BrowserOrigin;
import dev.umbra.kit.http.BrowserSocketToken;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;

/**
 * How the browser app (served by the control plane at {@code /app/}, docs/web.md) presents its
 * session token on the client WebSocket: a browser cannot set {@code Authorization} on a WebSocket,
 * so the page offers two subprotocols, {@value #PROTOCOL} (the one the engine selects and echoes,
 * so the token is never sent back) and {@value #BEARER_PREFIX}{@code <session token>}, read by the
 * kit's {@link BrowserSocketToken} as the relay and the messaging socket do. The engine takes a
 * token from there only when the request's {@code Origin} is the control plane's public origin:
 * another site's page gets no WebSocket, whatever token it holds. Without an {@code Origin}, or
 * with the header, nothing changes for the CLI and the daemon ({@code Authorization}).
 */
public final class BrowserSocketAuth {
  /** The subprotocol the browser offers and the engine selects (the wire is WebTTY v2). */
  public static final String PROTOCOL = "umbra.webtty.v2";

  /** The prefix of the subprotocol that carries the session token. */
  public static final String BEARER_PREFIX = BrowserSocketToken.TOKEN_PROTOCOL;

  private final BrowserOrigin app;
  private final BrowserSocketToken token;

  private BrowserSocketAuth(URI controlPlane) {
    this.app = BrowserOrigin.of(controlPlane);
    this.token = BrowserSocketToken.of(controlPlane);
  }

  /** For pages of the control plane at {@code controlPlane} (its public URL). */
  public static BrowserSocketAuth of(URI controlPlane) {
    return new BrowserSocketAuth(controlPlane);
  }

  /**
   * The session token of a browser's upgrade request, or null when it offers none (then the {@code
   * Authorization} header is the way).
   *
   * @throws ApiException 403 when one is offered from a page of another origin, or none
   */
  public String offered(RoutingContext ctx) {
    return token.offered(ctx.request());
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
