package dev.umbra.kit.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.testing.PostgresPerClass;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The failed-attempt limit under concurrency, against the real PostgreSQL. */
@ExtendWith(VertxExtension.class)
class FailureLimiterTest {
  private static final int LIMIT = 10;
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  private Database db;
  private FailureLimiter limiter;
  private final String ip = "ip:" + UUID.randomUUID();

  @BeforeEach
  void open(Vertx vertx, VertxTestContext ctx) {
    Database.open(vertx, pg.location(), "kittest", "umbra_app", 16)
        .onComplete(
            ctx.succeeding(
                d -> {
                  db = d;
                  limiter = new FailureLimiter(d, Clock.systemUTC(), LIMIT, Duration.ofMinutes(5));
                  ctx.completeNow();
                }));
  }

  @AfterEach
  void close(VertxTestContext ctx) {
    db.close().onComplete(ctx.succeedingThenComplete());
  }

  private static boolean wrong(Throwable e) {
    return e instanceof ApiException a && a.status() == 401;
  }

  /** 200 guesses at once, each failing; returns how many were evaluated and how many got 429. */
  private Future<int[]> guessInParallel(int n, String... buckets) {
    AtomicInteger evaluated = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    List<Future<Object>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(
          limiter
              .<Object>guard(
                  "slow down",
                  FailureLimiterTest::wrong,
                  () -> {
                    evaluated.incrementAndGet();
                    return Future.failedFuture(ApiException.unauthorized("wrong"));
                  },
                  buckets)
              .recover(
                  e -> {
                    if (e instanceof ApiException a && a.status() == 429) {
                      refused.incrementAndGet();
                    }
                    return Future.succeededFuture();
                  }));
    }
    return Future.join(all).map(v -> new int[] {evaluated.get(), refused.get()});
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelWrongGuesses(VertxTestContext ctx) {
    guessInParallel(200, ip)
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r[0]).isEqualTo(LIMIT);
                          assertThat(r[1]).isEqualTo(200 - LIMIT);
                          ctx.completeNow();
                        })));
  }

  @Test
  void holdsTheLimitOfEveryBucketWhenGuessesShareOnlyOne(VertxTestContext ctx) {
    // one IP, a new lookup id per guess (the bad API token case): the IP bucket limits them all
    AtomicInteger evaluated = new AtomicInteger();
    List<Future<Object>> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      all.add(
          limiter
              .<Object>guard(
                  "slow down",
                  FailureLimiterTest::wrong,
                  () -> {
                    evaluated.incrementAndGet();
                    return Future.failedFuture(ApiException.unauthorized("wrong"));
                  },
                  ip,
                  "lookup:" + UUID.randomUUID())
              .otherwiseEmpty());
    }
    Future.join(all)
        .onComplete(
            ctx.succeeding(
                v ->
                    ctx.verify(
                        () -> {
                          assertThat(evaluated.get()).isEqualTo(LIMIT);
                          ctx.completeNow();
                        })));
  }

  @Test
  void refundsAttemptsThatSucceed(VertxTestContext ctx) {
    AtomicInteger ok = new AtomicInteger();
    Future<Void> successes = Future.succeededFuture();
    for (int i = 0; i < 3 * LIMIT; i++) {
      successes =
          successes.compose(
              v ->
                  limiter
                      .guard(
                          "slow down",
                          FailureLimiterTest::wrong,
                          () -> Future.succeededFuture(ok.incrementAndGet()),
                          ip)
                      .mapEmpty());
    }
    successes
        .compose(v -> guessInParallel(200, ip))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(ok.get()).isEqualTo(3 * LIMIT);
                          assertThat(r[0]).isEqualTo(LIMIT);
                          ctx.completeNow();
                        })));
  }

  @Test
  void refundsAttemptsThatFailForAnotherReason(VertxTestContext ctx) {
    Future<Void> outages = Future.succeededFuture();
    for (int i = 0; i < 2 * LIMIT; i++) {
      outages =
          outages.compose(
              v ->
                  limiter
                      .guard(
                          "slow down",
                          FailureLimiterTest::wrong,
                          () -> Future.failedFuture(new IllegalStateException("database down")),
                          ip)
                      .otherwiseEmpty()
                      .mapEmpty());
    }
    outages
        .compose(v -> guessInParallel(200, ip))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r[0]).isEqualTo(LIMIT);
                          ctx.completeNow();
                        })));
  }
}
