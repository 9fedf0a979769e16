package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisCluster;
import dev.umbra.kit.testing.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator's probe sees when a Redis Cluster master dies: a service's {@code /healthz}
 * answers 503 with its {@code redis} check failing while the dead master's slots wait for its
 * replica, and 200 again once the replica serves them, without a restart.
 */
@ExtendWith(VertxExtension.class)
class HealthzOnClusterFailoverTest {
  @RegisterExtension static final TestRedisCluster cluster = TestRedisCluster.withReplicas();
  private static final Duration WITHIN = Duration.ofSeconds(20);

  @TempDir Path home;

  @Test
  @Timeout(60)
  void healthzAnswers503NamingRedisWhileAMasterIsDeadAnd200OnceItsReplicaTookOver(Vertx vertx)
      throws Exception {
    try (TestPostgres pg = TestPostgres.createDatabase()) {
      String prefix = TestRedis.randomPrefix();
      ServiceConfig cfg = TestServices.config(ServiceName.AUDIT, pg, prefix, home, Map.of());
      RedisBus bus = RedisBus.create(vertx, cluster.url(), prefix);
      HealthzPoller health = HealthzPoller.start(vertx, cfg, bus, WITHIN);
      List<JsonObject> seen = health.seen;
      try {
        Eventually.await("healthy before", WITHIN, () -> health.lastStatus() == 200);
        cluster.killMaster(cluster.ports().get(0), () -> {});
        Eventually.await(
            "healthy again after the failover", WITHIN, () -> health.lastStatus() == 200);
        JsonObject degraded =
            seen.stream().filter(b -> b.getInteger("http_status") == 503).findFirst().orElseThrow();
        JsonObject redis = degraded.getJsonObject("checks").getJsonObject("redis");
        assertThat(redis.getBoolean("ok")).isFalse();
        assertThat(redis.getString("error")).startsWith("redis");
        assertThat(degraded.getJsonObject("checks").getJsonObject("postgres").getBoolean("ok"))
            .isTrue();
      } finally {
        health.close();
        Futures.await(bus.close(), WITHIN);
      }
    }
  }
}
