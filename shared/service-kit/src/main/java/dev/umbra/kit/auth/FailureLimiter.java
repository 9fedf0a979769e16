package dev.umbra.kit.auth;

import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * Counts failed attempts (bad tokens, wrong pairing codes) per bucket such as {@code ip:1.2.3.4}
 * or {@code lookup:abc} in fixed windows, in PostgreSQL so every instance of a service sees the
 * same counts. The service's schema must hold the table:
 *
 * <pre>
 * CREATE TABLE auth_failures (bucket text PRIMARY KEY, window_start timestamptz NOT NULL,
 *                             failures integer NOT NULL);
 * </pre>
 *
 * (global by design: buckets are counted before any workspace is known).
 */
public final class FailureLimiter {
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

  /** True when any of {@code buckets} has reached the limit in the current window. */
  public Future<Boolean> blocked(String... buckets) {
    OffsetDateTime since = now().minus(window);
    return db.withTransaction(
        conn ->
            conn.preparedQuery(
                    "SELECT count(*) AS n FROM auth_failures WHERE bucket = ANY($1) AND window_start > $2 AND failures >= $3")
                .execute(Tuple.of(buckets, since, maxFailures))
                .map(rows -> rows.iterator().next().getLong("n") > 0));
  }

  /** Records one failure in each bucket. */
  public Future<Void> recordFailure(String... buckets) {
    OffsetDateTime now = now();
    OffsetDateTime since = now.minus(window);
    return db.withTransaction(
        conn -> {
          Future<Void> all = Future.succeededFuture();
          for (String bucket : buckets) {
            all =
                all.compose(
                    v ->
                        conn.preparedQuery(
                                "INSERT INTO auth_failures (bucket, window_start, failures) VALUES ($1, $2, 1) "
                                    + "ON CONFLICT (bucket) DO UPDATE SET "
                                    + "failures = CASE WHEN auth_failures.window_start <= $3 THEN 1 ELSE auth_failures.failures + 1 END, "
                                    + "window_start = CASE WHEN auth_failures.window_start <= $3 THEN $2 ELSE auth_failures.window_start END")
                            .execute(Tuple.of(bucket, now, since))
                            .mapEmpty());
          }
          return all;
        });
  }

  public int maxFailures() {
    return maxFailures;
  }
}
