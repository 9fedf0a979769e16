package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisCluster;
import dev.umbra.kit.testing.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
      HealthEndpointTest.Minimal service =
          Futures.await(
              TestServices.deploy(
                  vertx,
                  cfg,
                  bus,
                  Metrics.newRegistry(),
                  Clock.systemUTC(),
                  HealthEndpointTest.Minimal::new),
              WITHIN);
      WebClient http = WebClient.create(vertx);
      List<JsonObject> seen = new CopyOnWriteArrayList<>();
      long poller =
          vertx.setPeriodic(
              100,
              t ->
                  http.get(service.actualPort(), "127.0.0.1", "/healthz")
                      .send()
                      .onSuccess(
                          r -> seen.add(r.bodyAsJsonObject().put("http_status", r.statusCode()))));
      try {
        Eventually.await("healthy before", WITHIN, () -> lastStatus(seen) == 200);
        cluster.killMaster(cluster.ports().get(0), () -> {});
        Eventually.await("healthy again after the failover", WITHIN, () -> lastStatus(seen) == 200);
        JsonObject degraded =
            seen.stream().filter(b -> b.getInteger("http_status") == 503).findFirst().orElseThrow();
        JsonObject redis = degraded.getJsonObject("checks").getJsonObject("redis");
        assertThat(redis.getBoolean("ok")).isFalse();
        assertThat(redis.getString("error")).startsWith("redis");
        assertThat(degraded.getJsonObject("checks").getJsonObject("postgres").getBoolean("ok"))
            .isTrue();
      } finally {
        vertx.cancelTimer(poller);
        Futures.await(bus.close(), WITHIN);
      }
    }
  }

  private static int lastStatus(List<JsonObject> seen) {
    return seen.isEmpty() ? 0 : seen.get(seen.size() - 1).getInteger("http_status");
  }
}
