package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.TestRedis;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The bus's (UN)SUBSCRIBEs run one after another on the subscriber connection; one that is never
 * answered (its write failed as the connection died: the Redis client then completes nothing) must
 * not hold every later one back, or no new listener on this bus would ever be subscribed again.
 */
class RedisBusSubscribeQueueTest {
  private static final RedisLiveness FAST =
      new RedisLiveness(Duration.ofMillis(200), Duration.ofMillis(1000));

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f, long seconds) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
  }

  @Test
  void aSubscriberConnectionDyingUnderSubscribesNeverStallsTheLaterOnes() throws Exception {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix(), FAST);
    Redis admin = Redis.createClient(vertx, TestRedis.url().toString());
    try {
      for (int round = 0; round < Integer.getInteger("umbra.test.rounds", 5); round++) {
        await(bus.subscribe("umbra.test.queue.base", m -> {}), 10);
        String id = subscriberId(bus, admin);
        // subscribes and unsubscribes keep coming while the connection is killed under them
        List<Future<?>> churn = new ArrayList<>();
        Future<?> kill = admin.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(id));
        for (int i = 0; i < 200; i++) {
          String ch = "umbra.test.queue." + round + "." + i;
          churn.add(
              bus.subscribe(ch, m -> {})
                  .compose(s -> s.unsubscribe().recover(e -> Future.succeededFuture())));
        }
        await(kill, 10);
        // each ends (subscribed, or failed with the dead connection) within the bus's bound
        await(Future.join(churn).recover(e -> Future.succeededFuture()), 15);
        String late = "umbra.test.queue.late." + round;
        java.util.concurrent.CompletableFuture<String> got =
            new java.util.concurrent.CompletableFuture<>();
        await(bus.subscribe(late, m -> got.complete(m.body().toString())), 15);
        awaitHeard(bus, late, got);
      }
    } finally {
      await(bus.close(), 10);
      admin.close();
    }
  }

  @Test
  void aSubscribeMadeJustAfterRedisKilledTheConnectionWaitsForTheNextOneInsteadOfFailing()
      throws Exception {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix(), FAST);
    Redis admin = Redis.createClient(vertx, TestRedis.url().toString());
    try {
      for (int round = 0; round < 20; round++) {
        await(bus.subscribe("umbra.test.killed.base", m -> {}), 10);
        String id = subscriberId(bus, admin);
        // Redis has closed it; this bus may not have seen the end yet when the SUBSCRIBE goes out
        await(admin.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(id)), 10);
        String ch = "umbra.test.killed." + round;
        java.util.concurrent.CompletableFuture<String> got =
            new java.util.concurrent.CompletableFuture<>();
        await(bus.subscribe(ch, m -> got.complete(m.body().toString())), 15);
        awaitHeard(bus, ch, got);
      }
    } finally {
      await(bus.close(), 10);
      admin.close();
    }
  }

  private static String subscriberId(RedisBus bus, Redis admin) throws Exception {
    String list = await(admin.send(Request.cmd(Command.CLIENT).arg("LIST")), 10).toString();
    for (String line : list.split("\n")) {
      if (line.contains("name=" + bus.subscriberName() + " ")) {
        return line.replaceAll(".*\\bid=(\\d+).*", "$1").trim();
      }
    }
    throw new AssertionError("subscriber connection not in CLIENT LIST");
  }

  /** Publishes until the late listener hears one (a resubscribe may still be under way). */
  private void awaitHeard(
      RedisBus bus, String ch, java.util.concurrent.CompletableFuture<String> got)
      throws Exception {
    long t = vertx.setPeriodic(50, x -> bus.publish(ch, Buffer.buffer("late")));
    try {
      assertThat(got.get(15, TimeUnit.SECONDS)).isEqualTo("late");
    } finally {
      vertx.cancelTimer(t);
    }
  }
}
