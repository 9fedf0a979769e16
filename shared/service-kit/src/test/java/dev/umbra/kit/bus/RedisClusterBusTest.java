package dev.umbra.kit.bus;

import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisCluster;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bus contract against a real 3-master Redis Cluster: sharded pub/sub, streams on the master of
 * their slot; pattern subscriptions are refused.
 */
class RedisClusterBusTest extends BusContract {
  @RegisterExtension static final TestRedisCluster cluster = new TestRedisCluster();

  @Override
  protected Bus newBus(Vertx vertx) {
    return RedisBus.create(vertx, cluster.url(), TestRedis.randomPrefix());
  }

  @Override
  protected boolean offersPatterns() {
    return false;
  }
}
