package dev.umbra.daemon.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.testing.MutableClock;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The relay's trust hints: coalesced and rate-limited, never acted on without a fetch. */
class TrustRefreshTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aFloodOfHintsCostsOneFetchPerInterval() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    AtomicInteger syncs = new AtomicInteger();
    AtomicInteger rechecks = new AtomicInteger();
    TrustRefresh r =
        new TrustRefresh(
            vertx,
            clock,
            () -> syncs.incrementAndGet(),
            () -> Future.succeededFuture(rechecks.incrementAndGet() * 0),
            line -> {});
    var ctx = vertx.getOrCreateContext();
    // the first hint fetches at once
    ctx.runOnContext(v -> r.hint());
    Eventually.await("the first fetch", Duration.ofSeconds(5), () -> rechecks.get() == 1);
    // the clock moves to 500 ms before the interval ends; a relay then hints 1000 times in a loop
    clock.advance(Duration.ofMillis(TrustRefresh.MIN_INTERVAL_MS - 500));
    Promise<Void> flooded = Promise.promise();
    ctx.runOnContext(
        v -> {
          for (int j = 0; j < 1000; j++) {
            r.hint();
          }
          flooded.complete();
        });
    flooded.future().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    // none of them fetched inside the interval; all of them are folded into one fetch at its end
    assertThat(syncs.get()).isEqualTo(1);
    Eventually.await("the second fetch", Duration.ofSeconds(5), () -> rechecks.get() == 2);
    // no hint arrived during the second fetch, so nothing follows it
    assertThat(syncs.get()).isEqualTo(2);
  }

  @Test
  void aFailedFetchKeepsThePinAndChecksNothing() throws Exception {
    AtomicInteger rechecks = new AtomicInteger();
    List<String> reports = new CopyOnWriteArrayList<>();
    TrustRefresh r =
        new TrustRefresh(
            vertx,
            Clock.systemUTC(),
            () -> {
              throw new IllegalStateException("control plane unreachable");
            },
            () -> Future.succeededFuture(rechecks.incrementAndGet()),
            reports::add);
    vertx.getOrCreateContext().runOnContext(v -> r.hint());
    Eventually.await("a refresh reported", Duration.ofSeconds(5), () -> !reports.isEmpty());
    assertThat(reports)
        .singleElement()
        .asString()
        .contains("failed, keeping the pin")
        .contains("control plane unreachable");
    assertThat(rechecks.get()).isZero();
  }

  @Test
  void reportsChannelsItClosed() throws Exception {
    List<String> reports = new CopyOnWriteArrayList<>();
    TrustRefresh r =
        new TrustRefresh(
            vertx, Clock.systemUTC(), () -> null, () -> Future.succeededFuture(2), reports::add);
    vertx.getOrCreateContext().runOnContext(v -> r.hint());
    Eventually.await("a refresh reported", Duration.ofSeconds(5), () -> !reports.isEmpty());
    assertThat(reports).singleElement().asString().contains("closed 2 channel(s) or session(s)");
  }
}
