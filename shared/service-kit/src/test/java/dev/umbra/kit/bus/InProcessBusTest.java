package dev.umbra.kit.bus;

import io.vertx.core.Vertx;

class InProcessBusTest extends BusContract {
  @Override
  protected Bus newBus(Vertx vertx) {
    return new InProcessBus(vertx);
  }
}
