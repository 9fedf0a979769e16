package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.InProcessBus;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.Eventually;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Notices whose publish failed are published again, in order per channel, behind which later
 * notices of that channel wait; each outcome is counted (docs/messaging.md, "Delivery guarantees").
 */
class NoticeOutboxTest {
  final Vertx vertx = Vertx.vertx();
  final InProcessBus real = new InProcessBus(vertx);
  final MeterRegistry registry = Metrics.newRegistry();
  final List<String> received = new CopyOnWriteArrayList<>();

  /** Publishes to {@code real} fail while {@link #failures} is above 0 (one fewer each). */
  final AtomicInteger failures = new AtomicInteger();

  final Bus flaky =
      (Bus)
          Proxy.newProxyInstance(
              Bus.class.getClassLoader(),
              new Class<?>[] {Bus.class},
              (p, method, args) -> {
                if (method.getName().equals("publish")
                    && failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  return Future.failedFuture(new IllegalStateException("Redis is restarting"));
                }
                try {
                  return method.invoke(real, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                }
              });

  /** Seals nothing: the notice's bytes are the body. */
  static final NoticeOutbox.Sealer UNSEALED = (channel, notice) -> Buffer.buffer(notice);

  static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Subscribes to the test channel: what reaches it goes to {@link #received}. */
  void listen() throws Exception {
    real.subscribe("umbra.msg.test", m -> received.add(m.body().toString()))
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  double count(String outcome) {
    return registry
        .find("umbra.control_plane.message_notices")
        .tag("outcome", outcome)
        .counter()
        .count();
  }

  @Test
  void failedNoticesArePublishedAgainInOrderAndLaterOnesWaitBehindThem() throws Exception {
    listen();
    NoticeOutbox outbox = new NoticeOutbox(vertx, flaky, UNSEALED, registry);
    failures.set(4); // the first two, then two retries of the first, fail
    vertx.runOnContext(
        v -> {
          outbox.publish("umbra.msg.test", bytes("1"));
          outbox.publish("umbra.msg.test", bytes("2"));
          outbox.publish("umbra.msg.test", bytes("3")); // waits behind them
        });
    Eventually.await("all published", Duration.ofSeconds(10), () -> received.size() == 3);
    assertThat(received).containsExactly("1", "2", "3");
    assertThat(count("failed")).isEqualTo(4);
    assertThat(count("retried")).isEqualTo(3);
    assertThat(count("published")).isZero();
    assertThat(outbox.waiting()).isZero();
    // the channel is healthy again: the next one goes out directly
    vertx.runOnContext(v -> outbox.publish("umbra.msg.test", bytes("4")));
    Eventually.await("published at once", Duration.ofSeconds(10), () -> received.size() == 4);
    assertThat(count("published")).isEqualTo(1);
  }

  /**
   * Each attempt seals the notice again (a fresh time and MAC in production: {@link Notices#seal}),
   * so a retry late in {@link NoticeOutbox#RETRY_FOR} is not refused as stale by its receiver. The
   * sealer here stamps each body with its attempt's number.
   */
  @Test
  void eachAttemptIsSealedAgainSoTheRetryThatGetsThroughCarriesItsOwnSeal() throws Exception {
    listen();
    AtomicInteger attempts = new AtomicInteger();
    List<String> sealedFor = new CopyOnWriteArrayList<>();
    NoticeOutbox.Sealer stamping =
        (channel, notice) -> {
          sealedFor.add(channel);
          return Buffer.buffer(new String(notice, java.nio.charset.StandardCharsets.UTF_8))
              .appendString("@" + attempts.incrementAndGet());
        };
    NoticeOutbox outbox = new NoticeOutbox(vertx, flaky, stamping, registry);
    failures.set(3); // the first attempt and two retries fail
    vertx.runOnContext(v -> outbox.publish("umbra.msg.test", bytes("1")));
    Eventually.await("published again", Duration.ofSeconds(10), () -> received.size() == 1);
    assertThat(received).containsExactly("1@4"); // sealed at the fourth attempt, not the first
    assertThat(sealedFor).containsOnly("umbra.msg.test").hasSize(4);
    assertThat(count("failed")).isEqualTo(3);
    assertThat(count("retried")).isEqualTo(1);
    assertThat(outbox.waiting()).isZero();
  }

  @Test
  void aNoticeThatReachesNobodyIsCountedAndNotRetried() throws Exception {
    NoticeOutbox outbox = new NoticeOutbox(vertx, flaky, UNSEALED, registry);
    vertx.runOnContext(v -> outbox.publish("umbra.msg.nobody", bytes("1")));
    Eventually.await("counted", Duration.ofSeconds(10), () -> count("no_receiver") == 1);
    assertThat(count("retried") + count("failed") + count("dropped")).isZero();
    assertThat(outbox.waiting()).isZero();
  }

  @Test
  void noticesBeyondTheBytesThatMayWaitForARetryAreDroppedAndCounted() throws Exception {
    listen();
    NoticeOutbox outbox = new NoticeOutbox(vertx, flaky, UNSEALED, registry, 10);
    failures.set(1); // the first fails, and the second would wait behind it
    vertx.runOnContext(
        v -> {
          outbox.publish("umbra.msg.test", bytes("12345678"));
          outbox.publish("umbra.msg.test", bytes("abcd")); // 12 bytes would wait
        });
    Eventually.await(
        "the first published again", Duration.ofSeconds(10), () -> !received.isEmpty());
    assertThat(received).containsExactly("12345678");
    assertThat(count("dropped")).isEqualTo(1);
    assertThat(outbox.waiting()).isZero();
  }
}
