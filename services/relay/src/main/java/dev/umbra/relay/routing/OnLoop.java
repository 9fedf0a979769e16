package dev.umbra.relay.routing;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * Routing state lives on the relay verticle's event loop only; this brings a future's result back
 * there.
 */
final class OnLoop {
  private OnLoop() {}

  /**
   * {@code f}, completed on {@code context}: bus futures may complete on the bus connection's own
   * thread.
   */
  static <T> Future<T> of(Context context, Future<T> f) {
    Promise<T> p = Promise.promise();
    f.onComplete(
        ar -> {
          if (Vertx.currentContext() == context) {
            p.handle(ar);
          } else {
            context.runOnContext(v -> p.handle(ar));
          }
        });
    return p.future();
  }
}
