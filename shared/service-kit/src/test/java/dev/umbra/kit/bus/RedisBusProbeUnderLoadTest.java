package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The liveness probe of the subscriber connection is not fooled by the messages it carries: while a
 * steady stream of messages arrives, PINGs every few milliseconds (a pushed message lands between a
 * PING and its answer all the time) never make a healthy connection count as lost, and every
 * message is delivered exactly once. The Redis client hands the first reply after a PING to the
 * PING when it is a push; the PING's own answer then reached the message handler instead, the PING
 * never completed and the connection was replaced (MessagingBench: {@code bus_interrupted}).
 */
class RedisBusProbeUnderLoadTest {
  private static final RedisLiveness EAGER =
      new RedisLiveness(Duration.ofMillis(20), Duration.ofMillis(400));
  private static final Duration STREAM_FOR = Duration.ofSeconds(3);
  private static final Duration WITHIN = Duration.ofSeconds(20);

  private Vertx vertx;
  private RedisBus bus;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    bus = RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix(), EAGER, registry);
  }

  @AfterEach
  void stop() throws Exception {
    Futures.await(bus.close(), WITHIN);
    Futures.await(vertx.close(), WITHIN);
  }

  @Test
  void aBusyHealthySubscriberConnectionIsNeverTakenForLostAndDeliversEveryMessageOnce()
      throws Exception {
    String ch = "umbra.test.probe.load";
    Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
    AtomicInteger lost = new AtomicInteger();
    bus.onSubscriptionsLost(v -> lost.incrementAndGet());
    subscribeCounting(bus, ch, received, WITHIN);

    AtomicInteger sent = new AtomicInteger();
    long until = System.nanoTime() + STREAM_FOR.toNanos();
    vertx.setPeriodic(
        1,
        t -> {
          if (System.nanoTime() - until > 0) {
            vertx.cancelTimer(t);
            return;
          }
          for (int i = 0; i < 4; i++) {
            bus.publish(ch, Buffer.buffer("m" + sent.getAndIncrement()));
          }
        });
    Eventually.await("the stream has been published", WITHIN, () -> System.nanoTime() - until > 0);
    // the last publishes may still be on their way
    Eventually.holdsWithin(Duration.ofSeconds(5), () -> received.size() >= sent.get());

    assertThat(lost.get()).as("subscription-loss reactions run on a healthy connection").isZero();
    assertThat(registry.find("umbra.bus.subscriber.lost").counters())
        .as("subscriber connections counted as lost, by reason")
        .hasSize(3)
        .allMatch(c -> c.count() == 0);
    assertThat(sent.get()).as("messages published").isGreaterThan(100);
    assertThat(received).as("every message delivered").hasSize(sent.get());
    assertThat(received.values()).as("each exactly once").allMatch(n -> n.get() == 1);
  }

  /**
   * Subscribes {@code ch}, counting each body in {@code received}; a cold JVM's first connection
   * may take longer than an eager timeout, so a failed SUBSCRIBE is tried again.
   */
  static void subscribeCounting(
      RedisBus bus, String ch, Map<String, AtomicInteger> received, Duration within) {
    Eventually.await(
        "subscribed to " + ch,
        within,
        () ->
            bus.subscribe(
                    ch,
                    m ->
                        received
                            .computeIfAbsent(m.body().toString(), k -> new AtomicInteger())
                            .incrementAndGet())
                .map(true)
                .otherwise(false)
                .toCompletionStage()
                .toCompletableFuture()
                .get());
  }
}
