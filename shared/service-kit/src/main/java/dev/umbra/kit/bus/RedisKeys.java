package dev.umbra.kit.bus;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The {@link RedisBus}'s expiring keys (presence): SET PX, GET and a compare-and-delete script,
 * sent by the bus (pooled, bounded by its timeout) on its prefixed names. Each touches one key, so
 * on a Cluster each runs on that key's master.
 */
final class RedisKeys {
  /** DEL only while the key holds ARGV[1], atomically (Redis 7 has no conditional DEL). */
  private static final String DELETE_IF_HOLDS =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
          + " return 0";

  private final Function<Request, Future<Response>> send;
  private final UnaryOperator<String> key;

  RedisKeys(Function<Request, Future<Response>> send, UnaryOperator<String> key) {
    this.send = send;
    this.key = key;
  }

  Future<Void> putExpiring(String name, String value, Duration ttl) {
    return named(
        name,
        () ->
            send.apply(
                    Request.cmd(Command.SET)
                        .arg(key.apply(name))
                        .arg(value)
                        .arg("PX")
                        .arg(Math.max(1, ttl.toMillis())))
                .mapEmpty());
  }

  Future<String> get(String name) {
    return named(
        name,
        () ->
            send.apply(Request.cmd(Command.GET).arg(key.apply(name)))
                .map(r -> r == null ? null : r.toString()));
  }

  Future<Boolean> deleteIfHolds(String name, String value) {
    return named(
        name,
        () ->
            send.apply(
                    Request.cmd(Command.EVAL)
                        .arg(DELETE_IF_HOLDS)
                        .arg(1)
                        .arg(key.apply(name))
                        .arg(value))
                .map(r -> r != null && r.toLong() == 1));
  }

  /** {@code op} for a key whose name passed {@link Bus#checkName}, else the failure. */
  private static <T> Future<T> named(String name, Supplier<Future<T>> op) {
    try {
      Bus.checkName(name);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return op.get();
  }
}
