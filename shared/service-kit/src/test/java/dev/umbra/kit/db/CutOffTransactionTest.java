package dev.umbra.kit.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.PostgresPerClass;
import dev.umbra.kit.testing.TcpProxy;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An instance cut off from PostgreSQL between a transaction's statements and its {@code COMMIT}
 * (docs/configuration.md, {@code UMBRA_PG_TIMEOUT_MS}): its caller is answered {@link
 * DatabaseUnavailableException} after the timeout, and PostgreSQL ends the session after {@link
 * Database#IDLE_IN_TRANSACTION_TIMEOUTS} timeouts, so the rows it had locked are free for every
 * other instance instead of until the partition heals — and nothing it did is kept. And a
 * connection reset under a query (PostgreSQL killed) is unavailability too (503), not an internal
 * error (500, as the chaos suite saw on 2026-12-07).
 */
@ExtendWith(VertxExtension.class)
class CutOffTransactionTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  private static final Duration TIMEOUT = Duration.ofMillis(500);
  private final TcpProxy proxy = new TcpProxy(pg.location().port());
  private final UUID workspace = UUID.randomUUID();
  private Database cutOff;

  CutOffTransactionTest() throws Exception {}

  @AfterEach
  void close() throws Exception {
    proxy.close();
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE kittest.notes");
    }
  }

  @Test
  void aTransactionCutOffBeforeItsCommitReleasesItsRowLocksAndKeepsNothing() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      PgLocation direct = pg.location();
      PgLocation viaProxy =
          new PgLocation(
              "127.0.0.1", proxy.port(), direct.database(), direct.user(), direct.password());
      cutOff =
          Database.open(vertx, viaProxy, Optional.empty(), "kittest", "umbra_app", 2, TIMEOUT)
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      // the other instance's way in: straight to PostgreSQL, as the owner (no row-level security)
      long id;
      try (Connection c = pg.ownerConnection();
          PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO kittest.notes (workspace_id, body) VALUES (?, 'before') RETURNING id")) {
        st.setObject(1, workspace);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          id = rs.getLong(1);
        }
      }

      // the update runs and answers; the partition starts before the COMMIT is sent
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      cutOff
          .inWorkspace(
              workspace,
              conn ->
                  conn.preparedQuery("UPDATE notes SET body = 'cut off' WHERE id = $1")
                      .execute(io.vertx.sqlclient.Tuple.of(id))
                      .compose(
                          r -> {
                            proxy.partition();
                            return Future.succeededFuture();
                          }))
          .onComplete(ar -> outcome.set(ar.failed() ? ar.cause() : new AssertionError("ok")));
      Eventually.await(
          "the caller is answered", Duration.ofSeconds(10), () -> outcome.get() != null);
      assertThat(outcome.get()).isInstanceOf(DatabaseUnavailableException.class);
      assertThat(lockedBySomeoneElse(id)).as("the cut-off transaction holds the row").isTrue();

      // another instance's write to the row goes through once PostgreSQL ended the session
      long started = System.nanoTime();
      try (Connection c = pg.ownerConnection();
          Statement st = c.createStatement()) {
        st.execute("SET lock_timeout = '30s'");
        assertThat(st.executeUpdate("UPDATE kittest.notes SET body = 'other' WHERE id = " + id))
            .isEqualTo(1);
      }
      long waitedMs = (System.nanoTime() - started) / 1_000_000;
      assertThat(waitedMs)
          .as("waited for the row")
          .isLessThan(Database.idleInTransaction(TIMEOUT) + 10_000);
      assertThat(body(id)).as("nothing of the cut-off transaction is kept").isEqualTo("other");

      // healed: the pool gives up the ended session and works again
      proxy.heal();
      Eventually.await(
          "the cut-off instance reads again",
          Duration.ofSeconds(30),
          () ->
              cutOff
                  .inWorkspace(
                      workspace,
                      conn ->
                          conn.preparedQuery("SELECT body FROM notes WHERE id = $1")
                              .execute(io.vertx.sqlclient.Tuple.of(id))
                              .map(rows -> rows.iterator().next().getString("body")))
                  .toCompletionStage()
                  .toCompletableFuture()
                  .handle((body, e) -> "other".equals(body))
                  .get(10, TimeUnit.SECONDS));
    } finally {
      proxy.heal();
      if (cutOff != null) {
        cutOff.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      Promise<Void> closed = Promise.promise();
      vertx.close().onComplete(closed);
      closed.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aConnectionResetUnderAQueryIsUnavailabilityNotAnInternalError() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      PgLocation direct = pg.location();
      cutOff =
          Database.open(
                  vertx,
                  new PgLocation(
                      "127.0.0.1",
                      proxy.port(),
                      direct.database(),
                      direct.user(),
                      direct.password()),
                  Optional.empty(),
                  "kittest",
                  "umbra_app",
                  2,
                  Duration.ofSeconds(20))
              .toCompletionStage()
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      cutOff
          .inWorkspace(workspace, conn -> conn.query("SELECT pg_sleep(30)").execute().mapEmpty())
          .onComplete(ar -> outcome.set(ar.failed() ? ar.cause() : new AssertionError("ok")));
      Eventually.await(
          "the query reached PostgreSQL", Duration.ofSeconds(10), () -> sleeping() > 0);
      proxy.sever(); // as PostgreSQL killed: the connection reset under the query
      Eventually.await(
          "the caller is answered", Duration.ofSeconds(10), () -> outcome.get() != null);
      assertThat(outcome.get())
          .as("a reset connection is PostgreSQL not reached (503), not a 500")
          .isInstanceOf(DatabaseUnavailableException.class);
    } finally {
      if (cutOff != null) {
        cutOff.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        cutOff = null;
      }
      Promise<Void> closed = Promise.promise();
      vertx.close().onComplete(closed);
      closed.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static int sleeping() throws SQLException {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'"
                    + " AND state = 'active'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void theIdleBoundIsSeveralTimeoutsNeverOverflowing() {
    assertThat(Database.idleInTransaction(Duration.ofSeconds(5))).isEqualTo(30_000);
    assertThat(Database.idleInTransaction(Duration.ofDays(3650))).isEqualTo(Integer.MAX_VALUE);
  }

  /** Whether the row is locked by a transaction other than a new one's (NOWAIT refused). */
  private static boolean lockedBySomeoneElse(long id) throws SQLException {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      try {
        st.executeQuery("SELECT 1 FROM kittest.notes WHERE id = " + id + " FOR UPDATE NOWAIT");
        return false;
      } catch (SQLException e) {
        return "55P03".equals(e.getSQLState()); // lock_not_available
      } finally {
        c.rollback();
      }
    }
  }

  private static String body(long id) throws SQLException {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT body FROM kittest.notes WHERE id = " + id)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
