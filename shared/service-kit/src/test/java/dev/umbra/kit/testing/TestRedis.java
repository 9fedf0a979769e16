package dev.umbra.kit.testing;

import java.net.URI;
import java.util.UUID;

/**
 * The real Redis on localhost for tests: URL from system property {@code umbra.test.redis.url},
 * else {@code UMBRA_TEST_REDIS_URL}, else redis://127.0.0.1:6379; a random bus prefix per test
 * class isolates streams and channels from other runs.
 */
public final class TestRedis {
  private TestRedis() {}

  public static URI url() {
    String url = System.getProperty("umbra.test.redis.url");
    if (url == null || url.isBlank()) {
      url = System.getenv().getOrDefault("UMBRA_TEST_REDIS_URL", "redis://127.0.0.1:6379");
    }
    return URI.create(url);
  }

  public static String randomPrefix() {
    return "t" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }
}
