package dev.umbra.relay.routing;

import io.vertx.core.http.WebSocketClientOptions;
import java.net.URI;
import java.util.function.Supplier;

/**
 * What the mesh needs from the service (docs/relay.md, "Mesh").
 *
 * @param auth the proofs links present and require, keyed from the internal credential (null: the
 *     mesh is off)
 * @param url this instance's mesh URL once it listens (null from the supplier: it has none and
 *     takes no part)
 * @param tls whether the service serves TLS: links then go to {@code wss://} URLs only, with this
 *     service's certificate as client certificate
 * @param clientOptionsFactory a fresh copy of the options links are opened with (trust, client
 *     certificate)
 */
public record MeshAccess(
    MeshAuth auth,
    Supplier<URI> url,
    boolean tls,
    Supplier<WebSocketClientOptions> clientOptionsFactory) {

  WebSocketClientOptions clientOptions() {
    return clientOptionsFactory.get();
  }
}
