package dev.umbra.kit.http;

import io.vertx.core.http.HttpServerRequest;
import java.net.URI;

/**
 * A session token the browser app offers on a WebSocket upgrade (docs/web.md; docs/relay.md
 * "Browsers"). A page cannot set {@code Authorization} on a WebSocket, so it offers two
 * subprotocols: the service's own (which the server selects and echoes, so the token is never sent
 * back) and {@value #TOKEN_PROTOCOL}{@code <token>}. The token is read only from an upgrade whose
 * {@code Origin} is the control plane's public origin, the page it serves: any other origin, or
 * none, offering one is refused (403) before the token is looked at. Clients that send {@code
 * Authorization} (the CLI, the daemon) never reach this.
 */
public final class BrowserSocketToken {
  /** The prefix of the subprotocol that carries the page's session token. */
  public static final String TOKEN_PROTOCOL = "umbra.bearer.";

  private final BrowserOrigin app;

  private BrowserSocketToken(BrowserOrigin app) {
    this.app = app;
  }

  /** For pages of the control plane at {@code controlPlane} (its public URL). */
  public static BrowserSocketToken of(URI controlPlane) {
    return new BrowserSocketToken(BrowserOrigin.of(controlPlane));
  }

  /**
   * The token the upgrade {@code req} offers in {@code Sec-WebSocket-Protocol}, or null when it
   * offers none.
   *
   * @throws ApiException 403 when one is offered from a page of another origin (or none)
   */
  public String offered(HttpServerRequest req) {
    String header = req.getHeader("sec-websocket-protocol");
    if (header == null || !header.contains(TOKEN_PROTOCOL)) {
      return null;
    }
    String found = null;
    for (String offer : header.split(",")) {
      String p = offer.strip();
      if (p.startsWith(TOKEN_PROTOCOL) && p.length() > TOKEN_PROTOCOL.length()) {
        found = p.substring(TOKEN_PROTOCOL.length());
      }
    }
    if (found != null && !app.isApp(req.getHeader("origin"))) {
      throw ApiException.forbidden(
          "a session token in a subprotocol is accepted only from the browser app's origin");
    }
    return found;
  }
}
