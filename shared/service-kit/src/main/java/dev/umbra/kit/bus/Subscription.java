package dev.umbra.kit.bus;

import io.vertx.core.Future;

/** A live subscription; closing it stops delivery to its handler. */
public interface Subscription {
  Future<Void> unsubscribe();
}
