package dev.umbra.kit.bus;

import dev.umbra.kit.config.RedisUrl;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisCluster;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import java.net.URI;

/** The Redis client's options for where {@code UMBRA_REDIS_URL} says Redis is. */
final class RedisTopology {
  private RedisTopology() {}

  /**
   * A single node keeps the URL as its connection string, exactly as before Sentinel and Cluster
   * support; a Sentinel set follows its master through failovers (the client asks the Sentinels for
   * the master on every new connection); a Cluster routes each command to the master of its key's
   * slot.
   */
  static RedisOptions options(RedisUrl url, URI raw) {
    return switch (url.mode()) {
      case SINGLE -> new RedisOptions().setConnectionString(raw.toString());
      case SENTINEL ->
          new RedisOptions()
              .setType(RedisClientType.SENTINEL)
              .setRole(RedisRole.MASTER)
              .setMasterName(url.masterName().orElseThrow())
              .setEndpoints(url.connectionStrings());
      case CLUSTER ->
          new RedisOptions().setType(RedisClientType.CLUSTER).setEndpoints(url.connectionStrings());
    };
  }

  /**
   * Options for a client that holds one dedicated connection (the publisher, the subscriber). A
   * cluster connection keeps one socket per master from its client's pool and takes one more from
   * the same pool each time it refreshes its slot map (every second); with a pool of one that
   * refresh, and every command after it, would wait forever.
   */
  static RedisOptions dedicated(RedisOptions options) {
    boolean cluster = options.getType() == RedisClientType.CLUSTER;
    return new RedisOptions(options).setMaxPoolSize(cluster ? 2 : 1);
  }

  /**
   * Whether every master in {@code client}'s slot map answers and says the Cluster serves all its
   * slots ({@code cluster_state:ok}); fails naming how many masters did not.
   */
  static Future<Void> clusterHealth(Redis client) {
    return RedisCluster.create(client)
        .onAllMasterNodes(Request.cmd(Command.CLUSTER).arg("INFO"))
        .compose(
            replies -> {
              long failing =
                  replies.stream()
                      .filter(r -> r == null || !r.toString().contains("cluster_state:ok"))
                      .count();
              return failing == 0
                  ? Future.<Void>succeededFuture()
                  : Future.failedFuture(
                      new BusException(
                          "Redis Cluster degraded: "
                              + failing
                              + " of "
                              + replies.size()
                              + " masters report cluster_state other than ok"));
            });
  }
}
