package dev.umbra.controlplane.messaging;

import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.BrowserSocketToken;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;

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
  public static final String TOKEN_PROTOCOL = BrowserSocketToken.TOKEN_PROTOCOL;

  private final BrowserSocketToken token;

  public BrowserBearer(URI controlPlanePublicUrl) {
    this.token = BrowserSocketToken.of(controlPlanePublicUrl);
  }

  /**
   * The token a browser offered in {@code Sec-WebSocket-Protocol}, or null when it offered none.
   *
   * @throws ApiException 403 when the page offering one is of another origin
   */
  public String offered(RoutingContext ctx) {
    return token.offered(ctx.request());
  }
}
