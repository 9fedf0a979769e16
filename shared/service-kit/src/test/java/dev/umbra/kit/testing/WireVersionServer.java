package dev.umbra.kit.testing;

import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.kit.http.WireNegotiation;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * A service's HTTP edge for wire-version tests (docs/deploy.md, "Upgrades"): {@code GET /v1/thing}
 * answers {@code {"wire": <chosen version>}}, {@code GET /v1/socket} (and {@code /v1/relay})
 * upgrade to a WebSocket that says {@code wire <chosen>} once. The router passed in decides how
 * versions are negotiated: the kit's own ({@link ServiceHttp#router}) or {@link
 * WireNegotiation#handler} for another range.
 */
public final class WireVersionServer {
  private WireVersionServer() {}

  /** Mounts the routes on {@code router}, listens on a free loopback port and returns it. */
  public static int listen(Vertx vertx, Router router) throws Exception {
    router
        .get("/v1/thing")
        .handler(
            ctx ->
                ServiceHttp.json(
                    ctx, 200, new JsonObject().put("wire", WireNegotiation.chosen(ctx))));
    for (String path : new String[] {"/v1/socket", "/v1/relay"}) {
      router
          .get(path)
          .handler(
              ctx -> {
                int chosen = WireNegotiation.chosen(ctx);
                ctx.request().toWebSocket().onSuccess(ws -> ws.writeTextMessage("wire " + chosen));
              });
    }
    ServiceHttp.finish(router);
    HttpServer s =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    return s.actualPort();
  }
}
