package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisSentinel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bus follows a Sentinel failover by itself: after the master fails over to the replica (by
 * SENTINEL FAILOVER, then by the master's death), the same bus (no restart) publishes to its own
 * subscription again and reads the stream it read before, from the new master.
 */
@ExtendWith(VertxExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisBusSentinelFailoverTest {
  @RegisterExtension static final TestRedisSentinel sentinel = new TestRedisSentinel();
  private static final Duration WITHIN = Duration.ofSeconds(5);
  private static final Duration RESUMES_WITHIN = Duration.ofSeconds(30);

  @Test
  @Order(1)
  void publishesAndStreamReadsResumeAfterAFailoverWithoutARestart(Vertx vertx) throws Exception {
    survives(vertx, sentinel::failover);
  }

  /** Runs after the failover test: killing the master leaves the set without a replica. */
  @Test
  @Order(2)
  void publishesAndStreamReadsResumeAfterTheMasterIsKilledWithoutARestart(Vertx vertx)
      throws Exception {
    survives(vertx, sentinel::killMaster);
  }

  private static void survives(Vertx vertx, Runnable failover) throws Exception {
    String prefix = TestRedis.randomPrefix();
    String channel = "umbra.test.failover.live";
    String stream = "umbra.test.failover.log";
    RedisBus bus = RedisBus.create(vertx, sentinel.url(), prefix);
    try {
      List<String> heard = new CopyOnWriteArrayList<>();
      Futures.await(bus.subscribe(channel, m -> heard.add(m.body().toString())), WITHIN);
      Futures.await(bus.ensureGroup(stream, "g"), WITHIN);
      Futures.await(bus.append(stream, Buffer.buffer("before"), 100), WITHIN);
      assertThat(Futures.await(bus.readGroup(stream, "g", "c", 10, Duration.ZERO), WITHIN))
          .extracting(e -> e.body().toString())
          .containsExactly("before");
      Futures.await(bus.publish(channel, Buffer.buffer("before")), WITHIN);
      Eventually.await("heard before the failover", WITHIN, () -> heard.contains("before"));
      int oldMaster = sentinel.masterPort();
      int replica = sentinel.replicaPort();
      Eventually.await(
          "the replica holds the stream",
          WITHIN,
          () -> sentinel.command(replica, "EXISTS", prefix + stream).equals("1"));

      failover.run();
      assertThat(sentinel.masterPort()).isEqualTo(replica).isNotEqualTo(oldMaster);

      Eventually.await(
          "a publish after the failover reaches the subscription",
          RESUMES_WITHIN,
          () -> {
            bus.publish(channel, Buffer.buffer("after"));
            return heard.contains("after");
          });
      Eventually.await(
          "an append after the failover is read by the same group",
          RESUMES_WITHIN,
          () -> {
            Futures.await(bus.append(stream, Buffer.buffer("after"), 100), WITHIN);
            return Futures.await(bus.readGroup(stream, "g", "c", 10, Duration.ZERO), WITHIN)
                .stream()
                .anyMatch(e -> e.body().toString().equals("after"));
          });
      Futures.await(bus.ping(), WITHIN);
      assertThat(sentinel.command(replica, "XLEN", prefix + stream))
          .as("entries on the new master")
          .isNotEqualTo("0");
    } finally {
      Futures.await(bus.close(), WITHIN);
    }
  }
}
