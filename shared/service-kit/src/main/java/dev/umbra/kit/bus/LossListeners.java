package dev.umbra.kit.bus;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Who is told, each on its own context, that a bus lost its subscriptions. */
final class LossListeners {
  private record Listener(Context context, Handler<Void> handler) {}

  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  void add(Context context, Handler<Void> handler) {
    listeners.add(new Listener(context, handler));
  }

  void fire() {
    for (Listener l : listeners) {
      l.context().runOnContext(v -> l.handler().handle(null));
    }
  }
}
