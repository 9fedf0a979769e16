package dev.umbra.kit.bus;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bus's one publishing connection, pipelined (no waiting for a reply before the next publish),
 * which is what keeps publishes in call order. Opened lazily, so it belongs to the first
 * publisher's context (for a service with one verticle: its event loop, so publishing needs no
 * thread hop); a failed or closed one is replaced on the next publish. On a Cluster it is a cluster
 * connection: one socket per master, each publish sent to the master of its channel's slot, so one
 * channel's publishes still share one socket and keep their order.
 */
final class RedisPublisher {
  private static final Logger log = LoggerFactory.getLogger(RedisPublisher.class);
  private static final long RETRY_NANOS = 250_000_000L;

  private final Vertx vertx;
  private final RedisOptions options;
  private final java.time.Duration timeout;
  private Future<RedisConnection> current;
  private long failedAt;
  private boolean closed;

  /** {@code timeout}: a publish not answered within it fails and drops its connection. */
  RedisPublisher(Vertx vertx, RedisOptions options, java.time.Duration timeout) {
    this.vertx = vertx;
    this.options = options;
    this.timeout = timeout;
  }

  Future<Response> send(Request request) {
    Future<RedisConnection> conn = connection();
    Future<Response> sent =
        conn.succeeded() ? conn.result().send(request) : conn.compose(c -> c.send(request));
    return sent.timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .onFailure(
            e -> {
              if (e instanceof TimeoutException) {
                abandon(conn);
              }
            });
  }

  /**
   * A Redis that went silent leaves the connection (or its handshake) up but deaf: the next publish
   * opens a new one, and this one is closed once it is open.
   */
  private void abandon(Future<RedisConnection> conn) {
    synchronized (this) {
      if (current == conn) {
        current = null;
      }
    }
    conn.onSuccess(RedisConnection::close);
  }

  private synchronized Future<RedisConnection> connection() {
    if (closed) {
      return Future.failedFuture(new BusException("Redis bus is closed"));
    }
    Future<RedisConnection> now = current;
    // while Redis is unreachable, publishes fail fast for a moment instead of each dialling again
    boolean retry = now == null || (now.failed() && System.nanoTime() - failedAt > RETRY_NANOS);
    if (retry) {
      Redis single =
          Redis.createClient(vertx, RedisTopology.dedicated(options).setMaxWaitingHandlers(65_536));
      now =
          single
              .connect()
              .onFailure(
                  e -> {
                    synchronized (this) {
                      failedAt = System.nanoTime();
                    }
                    single.close();
                  });
      Future<RedisConnection> mine = now;
      now.onSuccess(
          c -> {
            Handler<Void> lost =
                v -> {
                  synchronized (this) {
                    if (current == mine) {
                      current = null;
                    }
                  }
                  single.close();
                };
            c.endHandler(lost);
            c.exceptionHandler(
                e -> {
                  log.warn("Redis publisher connection error: {}", e.getMessage());
                  c.close();
                });
          });
      current = now;
    }
    return now;
  }

  void close() {
    Future<RedisConnection> pub;
    synchronized (this) {
      closed = true;
      pub = current;
      current = null;
    }
    if (pub != null) {
      pub.onSuccess(c -> c.close());
    }
  }
}
