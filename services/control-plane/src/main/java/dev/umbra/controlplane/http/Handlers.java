package dev.umbra.controlplane.http;

import dev.umbra.kit.http.ServiceHttp;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Function;

/**
 * Adapts a Future-returning handler: success renders JSON with a status, failure goes to the error
 * handler, a service's {@code Refusal} translated by {@link RefusalMapper} on the way.
 */
public final class Handlers {
  private Handlers() {}

  public static Handler<RoutingContext> json(int status, Function<RoutingContext, Future<?>> work) {
    return ctx -> {
      Future<?> f;
      try {
        f = work.apply(ctx);
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onSuccess(
              body -> {
                if (status == 204 || body == null) {
                  ctx.response().setStatusCode(204).end();
                } else {
                  ServiceHttp.json(ctx, status, body);
                }
              })
          .onFailure(e -> ctx.fail(RefusalMapper.toHttp(e)));
    };
  }
}
