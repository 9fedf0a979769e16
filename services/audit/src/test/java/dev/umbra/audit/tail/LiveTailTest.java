package dev.umbra.audit.tail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestRedis;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Fan-out to tail clients over the real Redis: per-workspace channels, counted drops. */
@ExtendWith(VertxExtension.class)
class LiveTailTest {

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aFullClientLosesMessagesCountedWhileOthersGetEveryOne(Vertx vertx) throws Exception {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix());
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    UUID ws = UUID.randomUUID();
    UUID other = UUID.randomUUID();
    List<String> fast = new CopyOnWriteArrayList<>();
    List<String> elsewhere = new CopyOnWriteArrayList<>();
    LiveTail.Client full = json -> false;
    LiveTail.Client ok = json -> fast.add(json);
    LiveTail.Client otherClient = json -> elsewhere.add(json);
    LiveTail tail =
        await(
            Future.<LiveTail>future(
                p -> vertx.runOnContext(v -> p.complete(new LiveTail(bus, registry)))));
    await(
        Future.<Void>future(
            p ->
                vertx.runOnContext(
                    v ->
                        Future.all(
                                tail.add(ws, full), tail.add(ws, ok), tail.add(other, otherClient))
                            .<Void>mapEmpty()
                            .onComplete(p))));

    long receivers =
        await(
            bus.publish(
                "umbra.audit." + ws, Buffer.buffer("{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3}\n")));
    assertThat(receivers).isEqualTo(1); // one bus connection, however many clients
    Eventually.await(
        "three lines at the fast client", Duration.ofSeconds(5), () -> fast.size() >= 3);
    assertThat(fast).containsExactly("{\"seq\":1}", "{\"seq\":2}", "{\"seq\":3}");
    assertThat(elsewhere).isEmpty();
    assertThat(
            registry.get("umbra.audit.tail_dropped").tag("reason", "queue_full").counter().count())
        .isEqualTo(3.0);
    assertThat(registry.get("umbra.audit.tail_delivered").counter().count()).isEqualTo(3.0);
    assertThat(registry.get("umbra.audit.tail_clients").gauge().value()).isEqualTo(3.0);

    // the last client of a workspace leaving ends its subscription
    await(
        Future.<Void>future(
            p ->
                vertx.runOnContext(
                    v -> {
                      tail.remove(ws, full);
                      tail.remove(ws, ok);
                      p.complete();
                    })));
    Eventually.until(
        "the tail unsubscribed from the bus",
        Duration.ofSeconds(5),
        () -> await(bus.publish("umbra.audit." + ws, Buffer.buffer("{\"seq\":4}\n"))),
        after -> after == 0);
    assertThat(registry.get("umbra.audit.tail_clients").gauge().value()).isEqualTo(1.0);
    await(bus.close());
  }
}
