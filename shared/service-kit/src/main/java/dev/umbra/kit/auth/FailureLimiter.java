package dev.umbra.kit.auth;

import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts failed attempts (bad tokens, wrong pairing codes) per bucket such as {@code ip:1.2.3.4} or
 * {@code lookup:abc} in fixed windows, in PostgreSQL so every instance of a service sees the same
 * counts. An attempt is counted (reserved) before it is evaluated and refunded when it succeeds, in
 * one atomic statement, so the limit holds under any concurrency: of 200 parallel guesses exactly
 * {@code maxFailures} are evaluated. The service's schema must hold the table:
 *
 * <pre>
 * CREATE TABLE auth_failures (bucket text PRIMARY KEY, window_start timestamptz NOT NULL,
 *                             failures integer NOT NULL);
 * </pre>
 *
 * (global by design: buckets are counted before any workspace is known).
 */
public final class FailureLimiter {
  private static final Logger log = LoggerFactory.getLogger(FailureLimiter.class);
  private final Database db;
  private final Clock clock;
  private final int maxFailures;
  private final Duration window;

  public FailureLimiter(Database db, Clock clock, int maxFailures, Duration window) {
    this.db = db;
    this.clock = clock;
    this.maxFailures = maxFailures;
    this.window = window;
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  /**
   * One attempt counted in every bucket of {@link #reserve}, to be {@linkplain #refund refunded}
   * when it turns out not to be a failure.
   */
  public record Reservation(List<String> buckets, List<OffsetDateTime> windows) {
    public Reservation {
      buckets = List.copyOf(buckets);
      windows = List.copyOf(windows);
    }
  }

  /**
   * Counts one attempt in each of {@code buckets} before it is evaluated, in one statement that
   * increments a bucket only while it is under the limit (or its window has passed): the row lock
   * of the upsert serializes concurrent attempts, so however many arrive at once at most {@link
   * #maxFailures()} per window get a reservation. Empty when any bucket is at the limit (the others
   * are given back). Buckets are taken in sorted order, so concurrent reservations never deadlock.
   */
  public Future<Optional<Reservation>> reserve(String... buckets) {
    String[] sorted = new TreeSet<>(Arrays.asList(buckets)).toArray(String[]::new);
    OffsetDateTime now = now();
    OffsetDateTime since = now.minus(window);
    return db.withTransaction(
            conn ->
                conn.preparedQuery(
                        "INSERT INTO auth_failures AS f (bucket, window_start, failures) "
                            + "SELECT b, $2, 1 FROM unnest($1::text[]) AS b ORDER BY b "
                            + "ON CONFLICT (bucket) DO UPDATE SET "
                            + "failures = CASE WHEN f.window_start <= $3 THEN 1 ELSE f.failures + 1 END, "
                            + "window_start = CASE WHEN f.window_start <= $3 THEN $2 ELSE f.window_start END "
                            + "WHERE f.window_start <= $3 OR f.failures < $4 "
                            + "RETURNING f.bucket, f.window_start")
                    .execute(Tuple.of(sorted, now, since, maxFailures)))
        .compose(
            rows -> {
              List<String> got = new ArrayList<>();
              List<OffsetDateTime> windows = new ArrayList<>();
              for (Row r : rows) {
                got.add(r.getString("bucket"));
                windows.add(r.getOffsetDateTime("window_start"));
              }
              Reservation r = new Reservation(got, windows);
              if (got.size() == sorted.length) {
                return Future.succeededFuture(Optional.of(r));
              }
              return refund(r).map(Optional.empty());
            });
  }

  /**
   * Gives back a reservation (the attempt was not a failure); a window that has passed is left
   * alone.
   */
  public Future<Void> refund(Reservation r) {
    if (r.buckets().isEmpty()) {
      return Future.succeededFuture();
    }
    return db.withTransaction(
        conn ->
            conn.preparedQuery(
                    "UPDATE auth_failures AS f SET failures = f.failures - 1 "
                        + "FROM unnest($1::text[], $2::timestamptz[]) AS r(bucket, window_start) "
                        + "WHERE f.bucket = r.bucket AND f.window_start = r.window_start AND f.failures > 0")
                .execute(
                    Tuple.tuple()
                        .addValue(r.buckets().toArray(String[]::new))
                        .addValue(r.windows().toArray(OffsetDateTime[]::new)))
                .mapEmpty());
  }

  /**
   * Runs {@code attempt} only with a reservation in every bucket, else fails with 429 and {@code
   * refusal} without running it. The reservation is kept when the attempt fails with an error
   * {@code isFailure} accepts (a wrong token, an unknown code) and refunded otherwise (success, or
   * an error that says nothing about the guess, e.g. a database outage).
   */
  public <T> Future<T> guard(
      String refusal,
      Predicate<Throwable> isFailure,
      Supplier<Future<T>> attempt,
      String... buckets) {
    return reserve(buckets)
        .compose(
            reserved -> {
              if (reserved.isEmpty()) {
                return Future.failedFuture(ApiException.tooManyRequests(refusal));
              }
              Future<T> result;
              try {
                result = attempt.get();
              } catch (RuntimeException e) {
                result = Future.failedFuture(e);
              }
              return result.transform(
                  ar -> {
                    if (ar.failed() && isFailure.test(ar.cause())) {
                      return Future.<T>failedFuture(ar.cause());
                    }
                    return refund(reserved.get())
                        .onFailure(
                            e ->
                                log.warn(
                                    "failed-attempt reservation not refunded: {}", e.getMessage()))
                        .transform(
                            x ->
                                ar.succeeded()
                                    ? Future.succeededFuture(ar.result())
                                    : Future.<T>failedFuture(ar.cause()));
                  });
            });
  }

  public int maxFailures() {
    return maxFailures;
  }
}
