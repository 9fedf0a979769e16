package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.webapp.WebApp;
import dev.umbra.kit.http.ApiException;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.List;

/**
 * The browser app's session token on the messaging socket (docs/messaging.md, "Authentication";
 * docs/web.md, "Messaging"). A page cannot set {@code Authorization} on a WebSocket, so it offers
 * the subprotocols {@value #PROTOCOL} (selected by the server, so the token is never echoed) and
 * {@value #TOKEN_PROTOCOL}{@code <token>}. That token is read only from an upgrade whose {@code
 * Origin} is the control plane's own public origin (the page it serves): any other origin offering
 * one is refused (403) before the token is looked at. A request with an {@code Authorization}
 * header never reads the subprotocol; the CLI, daemon and agents send the header as before.
 */
public final class BrowserBearer {
  /** The subprotocol the page offers and the control plane selects. */
  public static final String PROTOCOL = "umbra.messages.v1";

  /** The prefix of the subprotocol that carries the page's session token. */
  public static final String TOKEN_PROTOCOL = "umbra.bearer.";

  private final String pageOrigin;

  public BrowserBearer(URI controlPlanePublicUrl) {
    this.pageOrigin = WebApp.connectOrigins(List.of(controlPlanePublicUrl)).get(0);
  }

  /**
   * The token a browser offered in {@code Sec-WebSocket-Protocol}, or null when it offered none.
   *
   * @throws ApiException 403 when the page offering one is of another origin
   */
  public String offered(RoutingContext ctx) {
    String header = ctx.request().getHeader("sec-websocket-protocol");
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
    if (found != null && !pageOrigin.equals(ctx.request().getHeader("origin"))) {
      throw ApiException.forbidden(
          "a session token in a subprotocol is accepted only from the browser app's origin");
    }
    return found;
  }
}
