package dev.umbra.kit.bus;

import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisSentinel;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The bus contract against a real Sentinel-watched master (one replica, two Sentinels). */
class RedisSentinelBusTest extends BusContract {
  @RegisterExtension static final TestRedisSentinel sentinel = new TestRedisSentinel();

  @Override
  protected Bus newBus(Vertx vertx) {
    return RedisBus.create(vertx, sentinel.url(), TestRedis.randomPrefix());
  }
}
