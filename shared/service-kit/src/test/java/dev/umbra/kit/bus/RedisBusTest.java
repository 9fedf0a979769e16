package dev.umbra.kit.bus;

import dev.umbra.kit.testing.TestRedis;
import io.vertx.core.Vertx;

/** The bus contract against the real Redis on localhost. */
class RedisBusTest extends BusContract {
  @Override
  protected Bus newBus(Vertx vertx) {
    return RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix());
  }
}
