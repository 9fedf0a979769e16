package dev.umbra.kit.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisUrlTest {
  private static final String VAR = "UMBRA_REDIS_URL";

  @Test
  void aRedisUrlIsOneNodeWithItsCredentialsAndDatabase() {
    RedisUrl url = RedisUrl.parse(VAR, "redis://:s3cret@cache.internal:6380/2");
    assertThat(url.mode()).isEqualTo(RedisUrl.Mode.SINGLE);
    assertThat(url.connectionStrings()).containsExactly("redis://:s3cret@cache.internal:6380/2");
    assertThat(url.describe()).isEqualTo("cache.internal:6380").doesNotContain("s3cret");
  }

  @Test
  void aSentinelUrlListsTheSentinelsAndNamesTheMaster() {
    RedisUrl url = RedisUrl.parse(VAR, "redis-sentinel://u:pw@s1:26379,s2,[::1]:26380/main");
    assertThat(url.mode()).isEqualTo(RedisUrl.Mode.SENTINEL);
    assertThat(url.masterName()).contains("main");
    assertThat(url.connectionStrings())
        .containsExactly(
            "redis://u:pw@s1:26379", "redis://u:pw@s2:26379", "redis://u:pw@[::1]:26380");
    assertThat(url.describe()).isEqualTo("Sentinel s1:26379,s2:26379,[::1]:26380 (master main)");
  }

  @Test
  void aClusterUrlListsSeedNodesAndTlsAppliesToEach() {
    RedisUrl url = RedisUrl.parse(VAR, "rediss-cluster://n1:7000,n2:7001,n3");
    assertThat(url.mode()).isEqualTo(RedisUrl.Mode.CLUSTER);
    assertThat(url.connectionStrings())
        .containsExactly("rediss://n1:7000", "rediss://n2:7001", "rediss://n3:6379");
  }

  @Test
  void badUrlsAreRefusedNamingTheVariableWithoutEchoingTheValue() {
    for (String bad :
        List.of(
            "memcached://h:1",
            "cache.internal:6379",
            "redis-sentinel://s1:26379,s2:26379",
            "redis-sentinel://s1:26379,,s2/main",
            "redis-cluster://n1:7000,n2:7000/3",
            "redis-cluster://n1:x,n2:7000",
            "redis://h1:6379,h2:6379",
            "redis://h:6379/zero")) {
      assertThatThrownBy(() -> RedisUrl.parse(VAR, bad.replace("://", "://pw-canary@")))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith(VAR + ":")
          .hasMessageNotContaining("pw-canary");
    }
  }

  @Test
  void serviceConfigTakesEveryFormAndKeepsTheUrl() {
    for (String url :
        List.of(
            "redis://127.0.0.1:6379",
            "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/umbra",
            "redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002")) {
      ServiceConfig c = ServiceConfig.load(ServiceName.AUDIT, new Env(Map.of(VAR, url)));
      assertThat(c.redisUrl()).hasToString(url);
    }
  }
}
