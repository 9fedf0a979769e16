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
    return ServiceHttp.jsonHandler(status, work, RefusalMapper::toHttp);
  }
}
