package dev.umbra.kit.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.function.BiFunction;

/**
 * A transaction sent as plain statements ({@code BEGIN} … {@code COMMIT}) on a pooled connection,
 * not through the client's {@code Transaction}: vertx-sql-client 5 sends a {@code Transaction}'s
 * {@code COMMIT} only once every statement of it has answered, so a {@code COMMIT} requested behind
 * statements in flight still cost a round trip of its own (seen with strace in the messaging
 * benchmark, docs/benchmarks.md). Here it goes out behind them on the connection at once.
 *
 * <p>PostgreSQL answers the {@code COMMIT} of a transaction a failed statement aborted with {@code
 * ROLLBACK}, not an error, so the {@code COMMIT} is preceded by a {@code SELECT 1} that fails in an
 * aborted transaction: a commit succeeds here only if nothing before it failed. On every path that
 * does not commit, {@code ROLLBACK} is sent before the connection goes back to the pool.
 *
 * <p>{@code BEGIN} and the workspace setting go as one simple-query message, and so do {@code
 * SELECT 1} and {@code COMMIT}: the client writes and flushes each message on its own (a {@code
 * sendto} each, and a read of its own at PostgreSQL when they arrive apart), so a transaction of
 * one statement is three writes instead of five (strace, docs/benchmarks.md).
 */
final class PlainTransaction implements Database.EarlyCommit {
  private final SqlConnection conn;
  private Future<Void> commit;

  private PlainTransaction(SqlConnection conn) {
    this.conn = conn;
  }

  /**
   * Runs {@code work} between {@code begin} (a {@code BEGIN} statement) and its end, {@code setup}
   * right after {@code begin}; {@code commitBehind}: the {@code COMMIT} goes out right behind what
   * {@code work} issued before returning, else when {@code work} asks ({@link #now}) or once it
   * succeeded. Answers {@code work}'s outcome once everything sent has answered; fails if any of it
   * failed (then nothing was kept).
   */
  static <T> Future<T> run(
      SqlConnection conn,
      String begin,
      String setup,
      boolean commitBehind,
      BiFunction<SqlConnection, Database.EarlyCommit, Future<T>> work) {
    // one Query message: PostgreSQL runs the setting after the BEGIN (a failure skips the rest)
    Future<?> begun = conn.query(begin + "; " + setup).execute();
    PlainTransaction tx = new PlainTransaction(conn);
    Future<T> done;
    try {
      done = work.apply(conn, tx);
    } catch (RuntimeException e) {
      done = Future.failedFuture(e);
    }
    if (commitBehind) {
      tx.now();
    }
    Future<T> work0 = done;
    return Future.join(begun, work0)
        .transform(
            x -> {
              Throwable failure =
                  begun.failed() ? begun.cause() : work0.failed() ? work0.cause() : null;
              if (tx.commit != null) {
                return tx.commit.transform(
                    c -> {
                      if (failure != null) {
                        return Future.failedFuture(failure);
                      }
                      return c.failed()
                          ? Future.failedFuture(c.cause())
                          : Future.succeededFuture(work0.result());
                    });
              }
              if (failure != null) {
                return conn.query("ROLLBACK")
                    .execute()
                    .transform(r -> Future.failedFuture(failure));
              }
              return tx.now().map(v -> work0.result());
            });
  }

  @Override
  public Future<Void> now() {
    if (commit == null) {
      // one Query message: in an aborted transaction the SELECT 1 fails and PostgreSQL skips the
      // COMMIT, so the transaction is still open (aborted) and is rolled back here before the
      // connection goes back to the pool; a failed COMMIT has ended it (the ROLLBACK then only
      // warns)
      commit =
          conn.query("SELECT 1; COMMIT")
              .execute()
              .transform(
                  ar ->
                      ar.succeeded()
                          ? Future.<Void>succeededFuture()
                          : conn.query("ROLLBACK")
                              .execute()
                              .transform(r -> Future.<Void>failedFuture(ar.cause())));
    }
    return commit;
  }
}
