package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * On a Redis Cluster the subscriber connection holds one socket per master, and each master that
 * carries a subscription is probed: a repeated {@code SSUBSCRIBE} of one of its channels, whose
 * answer is a push no other reply can take. Busy masters are never taken for lost, and a frozen
 * master (connections up, nothing answers) is noticed, whichever master it is.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisBusClusterProbeTest {
  @RegisterExtension static final TestRedisCluster cluster = new TestRedisCluster();
  private static final RedisLiveness EAGER =
      new RedisLiveness(Duration.ofMillis(50), Duration.ofMillis(1_000));
  private static final Duration WITHIN = Duration.ofSeconds(20);

  private Vertx vertx;
  private RedisBus bus;
  private String prefix;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final AtomicInteger lost = new AtomicInteger();
  private final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();

  /** One channel on each master, by the master's port. */
  private final Map<Integer, String> channels = new HashMap<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    prefix = TestRedis.randomPrefix();
    bus = RedisBus.create(vertx, cluster.url(), prefix, EAGER, registry);
    bus.onSubscriptionsLost(v -> lost.incrementAndGet());
    for (int i = 0; channels.size() < cluster.ports().size(); i++) {
      String ch = "umbra.test.probe.ch" + i;
      channels.putIfAbsent(cluster.masterOf(prefix + ch), ch);
    }
    for (String ch : channels.values()) {
      RedisBusProbeUnderLoadTest.subscribeCounting(bus, ch, received, WITHIN);
    }
  }

  @AfterEach
  void stop() throws Exception {
    Futures.await(bus.close(), WITHIN);
    Futures.await(vertx.close(), WITHIN);
  }

  @Test
  @Order(1)
  void everyMasterCarryingASubscriptionIsProbedAndBusyOnesAreNeverTakenForLost() {
    Map<Integer, Long> before = new HashMap<>();
    channels.keySet().forEach(port -> before.put(port, ssubscribes(port)));
    List<String> names = new ArrayList<>(channels.values());
    AtomicInteger sent = new AtomicInteger();
    long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    vertx.setPeriodic(
        1,
        t -> {
          if (System.nanoTime() - until > 0) {
            vertx.cancelTimer(t);
            return;
          }
          int n = sent.getAndIncrement();
          bus.publish(names.get(n % names.size()), Buffer.buffer("m" + n));
        });
    Eventually.await("the stream has been published", WITHIN, () -> System.nanoTime() - until > 0);
    Eventually.holdsWithin(Duration.ofSeconds(5), () -> received.size() >= sent.get());

    for (int port : channels.keySet()) {
      assertThat(ssubscribes(port) - before.get(port))
          .as("SSUBSCRIBE echoes asked of master " + port + " in 2 s at one per 50 ms")
          .isGreaterThanOrEqualTo(5);
    }
    assertThat(lost.get()).as("subscription-loss reactions run on healthy masters").isZero();
    assertThat(registry.find("umbra.bus.subscriber.lost").counters()).allMatch(c -> c.count() == 0);
    assertThat(received).as("every message delivered").hasSize(sent.get());
    assertThat(received.values()).as("each exactly once").allMatch(n -> n.get() == 1);
  }

  @Test
  @Order(2)
  void aFrozenMasterCarryingASubscriptionIsNoticedAndItsChannelsComeBackWhenItAnswers() {
    // not the master the bootstrap endpoint points at first: any one master of the three will do
    int frozen = channels.keySet().stream().max(Integer::compare).orElseThrow();
    String ch = channels.get(frozen);
    cluster.freeze(frozen);
    try {
      Eventually.await("the silent master counts as lost", WITHIN, () -> lost.get() > 0);
      assertThat(registry.counter("umbra.bus.subscriber.lost", "reason", "silent").count())
          .as("counted as lost for its silence")
          .isGreaterThanOrEqualTo(1);
    } finally {
      cluster.thaw(frozen);
    }
    Eventually.await(
        "a publish on the thawed master reaches the resubscribed listener",
        WITHIN,
        () -> {
          if (received.containsKey("after")) {
            return true;
          }
          bus.publish(ch, Buffer.buffer("after"));
          return false;
        });
  }

  /** How many SSUBSCRIBE commands the node on {@code port} has run. */
  private static long ssubscribes(int port) {
    for (String line : cluster.command(port, "INFO", "commandstats").split("\n")) {
      if (line.startsWith("cmdstat_ssubscribe:calls=")) {
        return Long.parseLong(line.replaceAll("^cmdstat_ssubscribe:calls=(\\d+).*", "$1").trim());
      }
    }
    return 0;
  }
}
