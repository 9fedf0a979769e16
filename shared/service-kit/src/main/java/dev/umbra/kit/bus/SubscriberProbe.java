package dev.umbra.kit.bus;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.RedisCluster;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Whether one subscriber connection still hears from Redis, asked every {@link
 * RedisLiveness#probeEvery}; a connection that heard nothing for {@link RedisLiveness#lostAfter}
 * after a probe is silent (a partition, a frozen host: no FIN, no RST, no byte) and handed to
 * {@code onSilent}.
 *
 * <p>The answer is never taken from the probe's own promise. The Redis client (5.0) gives the
 * oldest waiting command's promise to the next reply whatever it is and only then routes pushes to
 * the message handler: a pub/sub message arriving while a PING waits takes (and drops) the PING's
 * promise, and the PONG, with nothing waiting any more, reaches the handler. So on a busy
 * connection a PING's promise may never complete although Redis answered it.
 *
 * <ul>
 *   <li>One node, a Sentinel's master: a PING every interval; anything at all that arrives after it
 *       (its answer, by the promise or by the handler, or a pushed message) shows Redis is there.
 *   <li>A Cluster (sharded pub/sub): the connection holds one socket per master, and a PING reaches
 *       only one of them (chosen at random). Each interval, one subscribed channel of each master
 *       is subscribed again: the repeated {@code SSUBSCRIBE} changes nothing in Redis, goes to that
 *       channel's master, and its answer is a push (which no other reply can take), named by the
 *       channel. A master whose echo did not come back within the timeout is silent. Masters that
 *       hold none of the subscriptions are not asked: their silence loses nothing.
 * </ul>
 */
final class SubscriberProbe {
  private final Vertx vertx;
  private final RedisLiveness liveness;
  private final BooleanSupplier current;
  private final Consumer<String> onSilent;
  private volatile long lastHeard = System.nanoTime();

  /** Sharded: the channels whose SSUBSCRIBE echo is awaited, with when it was sent. */
  private final Map<String, Long> awaited = new ConcurrentHashMap<>();

  /**
   * @param current whether the connection is still the bus's current one (else the probe stops)
   * @param onSilent what to do when the connection is silent, told why
   */
  SubscriberProbe(
      Vertx vertx, RedisLiveness liveness, BooleanSupplier current, Consumer<String> onSilent) {
    this.vertx = vertx;
    this.liveness = liveness;
    this.current = current;
    this.onSilent = onSilent;
  }

  /** Something arrived on the connection: a reply, a push, an answer the handler got. */
  void heard() {
    lastHeard = System.nanoTime();
  }

  /** Sharded: Redis answered an {@code SSUBSCRIBE} of {@code channel}. */
  void echoed(String channel) {
    awaited.remove(channel);
  }

  /**
   * Probes {@code conn} while it is current: {@link #echo} when {@code sharded} (a Cluster), else
   * {@link #ping}.
   */
  void start(
      RedisConnection conn,
      boolean sharded,
      Supplier<Set<String>> channels,
      Function<String, Future<Boolean>> resubscribe) {
    if (sharded) {
      echo(conn, channels, resubscribe);
    } else {
      ping(conn);
    }
  }

  /** PINGs {@code conn} (one node, a Sentinel's master) every interval while it is current. */
  void ping(RedisConnection conn) {
    every(
        () -> {
          long sentAt = System.nanoTime();
          try {
            conn.send(Request.cmd(Command.PING)).onSuccess(r -> heard());
          } catch (RuntimeException e) {
            // a closed connection: its end handler replaces it
          }
          afterTimeout(
              () -> lastHeard - sentAt < 0,
              "heard nothing, not even the answer to a PING, within "
                  + liveness.lostAfter().toMillis()
                  + " ms");
        });
  }

  /**
   * Sharded: every interval, {@code resubscribe} (which answers false when the channel is no longer
   * listened to) one channel of each master holding any of {@code channels}, per {@code cluster}'s
   * slot map (the one {@code cluster}, the subscriber connection, routes by).
   */
  void echo(
      RedisConnection cluster,
      Supplier<Set<String>> channels,
      Function<String, Future<Boolean>> resubscribe) {
    every(
        () -> {
          long askedAt = System.nanoTime();
          onePerMaster(cluster, channels.get())
              .timeout(liveness.lostAfter().toMillis(), TimeUnit.MILLISECONDS)
              .onSuccess(
                  picked -> {
                    for (String ch : picked) {
                      echo(ch, resubscribe);
                    }
                  })
              .onFailure(
                  e -> {
                    // the slot map (which it refreshes from the masters now and then) never came
                    if (e instanceof TimeoutException && current.getAsBoolean()) {
                      onSilent.accept(
                          "found no slot map within "
                              + (System.nanoTime() - askedAt) / 1_000_000
                              + " ms");
                    }
                  });
        });
  }

  private void echo(String ch, Function<String, Future<Boolean>> resubscribe) {
    long sentAt = System.nanoTime();
    if (awaited.putIfAbsent(ch, sentAt) != null) {
      return; // the last echo of this channel is still awaited, and timed
    }
    resubscribe
        .apply(ch)
        .onComplete(
            sent -> {
              if (sent.failed() || !sent.result()) {
                awaited.remove(ch, sentAt); // not sent: nothing to wait for
              }
            });
    afterTimeout(
        () -> awaited.remove(ch, sentAt),
        "shard holding "
            + ch
            + " did not answer within "
            + liveness.lostAfter().toMillis()
            + " ms");
  }

  /** One channel of each master that holds any of {@code channels}. */
  private static Future<List<String>> onePerMaster(RedisConnection cluster, Set<String> channels) {
    if (channels.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    Map<Request, String> byRequest = new IdentityHashMap<>();
    for (String ch : channels) {
      byRequest.put(Request.cmd(Command.SSUBSCRIBE).arg(ch), ch);
    }
    return RedisCluster.create(cluster)
        .groupByNodes(new ArrayList<>(byRequest.keySet()))
        .map(
            grouping ->
                grouping.getKeyed().stream()
                    .filter(group -> !group.isEmpty())
                    .map(group -> byRequest.get(group.getFirst()))
                    .toList());
  }

  private void every(Runnable probe) {
    vertx.setPeriodic(
        liveness.probeEvery().toMillis(),
        t -> {
          if (!current.getAsBoolean()) {
            vertx.cancelTimer(t);
            return;
          }
          probe.run();
        });
  }

  private void afterTimeout(BooleanSupplier silent, String why) {
    vertx.setTimer(
        liveness.lostAfter().toMillis(),
        t -> {
          if (current.getAsBoolean() && silent.getAsBoolean()) {
            onSilent.accept(why);
          }
        });
  }
}
