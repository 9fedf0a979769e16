package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.bus.RedisLiveness;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisSingle;
import dev.umbra.kit.testing.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator's probe sees when Redis goes silent without closing its connections (SIGSTOP of
 * a Redis of the test's own): {@code /healthz} answers 503 naming the lost subscriber connection,
 * and 200 again once Redis answers and the subscriptions are made anew, without a restart.
 */
@ExtendWith(VertxExtension.class)
class HealthzOnHalfOpenRedisTest {
  @RegisterExtension static final TestRedisSingle redis = new TestRedisSingle();
  private static final Duration WITHIN = Duration.ofSeconds(30);

  @TempDir Path home;

  @Test
  @Timeout(90)
  void healthzAnswers503WhileTheSubscriberIsLostAnd200OnceItIsBack(Vertx vertx) throws Exception {
    try (TestPostgres pg = TestPostgres.createDatabase()) {
      String prefix = TestRedis.randomPrefix();
      ServiceConfig cfg = TestServices.config(ServiceName.AUDIT, pg, prefix, home, Map.of());
      RedisBus bus =
          RedisBus.create(
              vertx,
              redis.url(),
              prefix,
              new RedisLiveness(Duration.ofMillis(200), Duration.ofMillis(1_000)));
      HealthzPoller health = HealthzPoller.start(vertx, cfg, bus, WITHIN);
      // a subscription, as every service has (revocations): the lost connection carries it
      Futures.await(bus.subscribe("umbra.test.healthz", m -> {}), WITHIN);
      boolean frozen = false;
      try {
        Eventually.await("healthy before", WITHIN, () -> health.lastStatus() == 200);
        redis.freeze();
        frozen = true;
        Eventually.await(
            "503 naming the lost subscriber",
            WITHIN,
            () -> health.lastStatus() == 503 && redisError(health.last()).contains("subscriber"));
        redis.thaw();
        frozen = false;
        Eventually.await(
            "healthy again once resubscribed", WITHIN, () -> health.lastStatus() == 200);
        assertThat(health.last().getJsonObject("checks").getJsonObject("redis").getBoolean("ok"))
            .isTrue();
      } finally {
        if (frozen) {
          redis.thaw();
        }
        health.close();
        Futures.await(bus.close(), WITHIN);
      }
    }
  }

  private static String redisError(JsonObject health) {
    return health.getJsonObject("checks").getJsonObject("redis").getString("error", "");
  }
}
