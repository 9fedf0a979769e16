package dev.umbra.daemon.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
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
    AtomicInteger syncs = new AtomicInteger();
    AtomicInteger rechecks = new AtomicInteger();
    TrustRefresh r =
        new TrustRefresh(
            vertx,
            Clock.systemUTC(),
            () -> syncs.incrementAndGet(),
            () -> Future.succeededFuture(rechecks.incrementAndGet() * 0),
            line -> {});
    var ctx = vertx.getOrCreateContext();
    // a relay hinting in a loop, 1000 times in a second
    for (int i = 0; i < 10; i++) {
      ctx.runOnContext(
          v -> {
            for (int j = 0; j < 100; j++) {
              r.hint();
            }
          });
      Thread.sleep(
          100); // on purpose: the hints arrive spread over a second, as a looping relay sends them
    }
    // on purpose: the assertion is about what happens within the interval, so the test lets it pass
    Thread.sleep(TrustRefresh.MIN_INTERVAL_MS + 1_000);
    // the first hint fetched at once; all the others were folded into one more, an interval later
    assertThat(syncs.get()).isEqualTo(2);
    assertThat(rechecks.get()).isEqualTo(2);
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
