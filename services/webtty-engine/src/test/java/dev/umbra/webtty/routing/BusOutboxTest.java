package dev.umbra.webtty.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.InProcessBus;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.webtty.metrics.EngineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Redis restart or pause (the chaos suite, docs/chaos.md) must not lose a keystroke between an
 * edge and its session's home: a publish that fails, or reaches nobody while the home resubscribes,
 * is tried again in order instead of being dropped.
 */
class BusOutboxTest {
  static final String CHANNEL = "umbra.webtty.sess.s1";
  Vertx vertx;
  InProcessBus real;
  SimpleMeterRegistry registry;
  final AtomicInteger failuresLeft = new AtomicInteger();
  final AtomicInteger nobodyLeft = new AtomicInteger();
  final List<Long> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    real = new InProcessBus(vertx);
    registry = new SimpleMeterRegistry();
    real.subscribe(
            CHANNEL,
            m -> {
              try {
                WebTtyBusMessage msg = WebTtyBusMessage.parseFrom(m.body().getBytes());
                msg.getFramesList().forEach(f -> received.add(f.getSequence()));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            })
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The in-process bus, whose publishes fail or reach nobody as many times as asked first. */
  private Bus flaky() {
    return (Bus)
        Proxy.newProxyInstance(
            Bus.class.getClassLoader(),
            new Class<?>[] {Bus.class},
            (proxy, method, args) -> {
              if (method.getName().equals("publish")) {
                if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  return Future.failedFuture("connection refused (Redis restarting)");
                }
                if (nobodyLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  return Future.succeededFuture(0L);
                }
              }
              try {
                return method.invoke(real, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static WebTtyBusMessage header(String participant) {
    return WebTtyBusMessage.newBuilder()
        .setOrigin("edge")
        .setDirection(BusDirection.BUS_DIRECTION_TO_HOME)
        .setParticipantId(participant)
        .build();
  }

  private void offer(BusOutbox outbox, long... sequences) {
    offer(outbox, header(""), sequences);
  }

  private void offer(BusOutbox outbox, WebTtyBusMessage header, long... sequences) {
    vertx.runOnContext(
        v -> {
          for (long s : sequences) {
            assertThat(
                    outbox.offer(
                        CHANNEL,
                        header,
                        WebTtyFrame.newBuilder()
                            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
                            .setSessionId("s1")
                            .setSequence(s)
                            .build()))
                .isTrue();
          }
        });
  }

  private double retries() {
    var c = registry.find("umbra.webtty_engine.bus_publish_retries").counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void framesWhosePublishFailsArriveLaterInOrderAndNoneIsDropped() {
    failuresLeft.set(4);
    BusOutbox outbox = new BusOutbox(flaky(), new EngineMetrics(registry));
    offer(outbox, 1, 2, 3);
    offer(outbox, 4, 5);
    Eventually.await("all five frames arrive", Duration.ofSeconds(10), () -> received.size() == 5);
    assertThat(received).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(retries()).isEqualTo(4);
    assertThat(registry.find("umbra.webtty_engine.frames_dropped").counter()).isNull();
  }

  @Test
  void framesThatReachNobodyWhileTheHomeResubscribesAreSentAgain() {
    nobodyLeft.set(3);
    BusOutbox outbox = new BusOutbox(flaky(), new EngineMetrics(registry));
    offer(outbox, 7, 8);
    Eventually.await("both frames arrive", Duration.ofSeconds(10), () -> received.size() == 2);
    assertThat(received).containsExactly(7L, 8L);
    assertThat(retries()).isEqualTo(3);
  }

  /**
   * A revoked participant's frames waiting for a home (docs/webtty.md, "A JOIN queued across a
   * home's death") are withdrawn: never published once a home listens, counted, and the other
   * participants' frames go on.
   */
  @Test
  void withdrawnFramesAreNeverSentOnceAHomeListens() {
    nobodyLeft.set(Integer.MAX_VALUE);
    BusOutbox outbox = new BusOutbox(flaky(), new EngineMetrics(registry));
    offer(outbox, header("bob"), 1, 2, 3);
    Eventually.await("retried while nobody listens", Duration.ofSeconds(10), () -> retries() >= 2);
    vertx.runOnContext(v -> outbox.withdraw(CHANNEL, header("bob")));
    Eventually.await(
        "withdrawn",
        Duration.ofSeconds(10),
        () -> {
          var c =
              registry
                  .find("umbra.webtty_engine.frames_dropped")
                  .tag("reason", "revoked_queued")
                  .counter();
          return c != null && c.count() == 3;
        });
    nobodyLeft.set(0); // the new home listens
    offer(outbox, header("alice"), 9);
    Eventually.await("alice's frame arrives", Duration.ofSeconds(10), () -> received.contains(9L));
    Eventually.holdsThroughout(
        "bob's frames never arrive (past the longest retry delay)",
        Duration.ofMillis(1_500),
        () -> received.equals(List.of(9L)));
  }
}
