package dev.umbra.kit.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.PostgresPerClass;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Database#inWorkspaceCommittingEarly}: a unit of work that sends its {@code COMMIT} behind
 * its last statements, without waiting for their answers, against the real PostgreSQL with
 * row-level security forced.
 */
@ExtendWith(VertxExtension.class)
class EarlyCommitTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  private Database db;
  private final UUID workspace = UUID.randomUUID();

  @BeforeEach
  void open(Vertx vertx, VertxTestContext ctx) {
    Database.open(vertx, pg.location(), "kittest", "umbra_app", 2)
        .onComplete(
            ctx.succeeding(
                d -> {
                  db = d;
                  ctx.completeNow();
                }));
  }

  @AfterEach
  void close(VertxTestContext ctx) throws Exception {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE kittest.notes");
    }
    db.close().onComplete(ctx.succeedingThenComplete());
  }

  private Future<RowSet<Row>> insert(io.vertx.sqlclient.SqlConnection c, String body) {
    return c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, $2)")
        .execute(Tuple.of(workspace, body));
  }

  private Future<List<String>> bodies() {
    return db.readInWorkspace(workspace, c -> c.query("SELECT body FROM notes").execute())
        .map(
            rows -> {
              List<String> out = new ArrayList<>();
              rows.forEach(r -> out.add(r.getString("body")));
              out.sort(String::compareTo);
              return out;
            });
  }

  @Test
  void theCommitGoesOutBeforeTheWorkEndsSoOthersSeeItsRowsFirst(VertxTestContext ctx) {
    // the work ends only after another transaction has read what it wrote: possible only if its
    // COMMIT did not wait for the work's outcome (with inWorkspacePipelined this never completes)
    db.inWorkspaceCommittingEarly(
            workspace,
            (c, commit) -> {
              Future<RowSet<Row>> one = insert(c, "one");
              Future<RowSet<Row>> two = insert(c, "two");
              Future<Void> committed = commit.now();
              assertThat(commit.now()).isSameAs(committed);
              return Future.all(one, two).compose(x -> committed).compose(v -> bodies());
            })
        .compose(seen -> bodies().map(after -> List.of(seen, after)))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.get(0)).containsExactly("one", "two");
                          assertThat(r.get(1)).containsExactly("one", "two");
                          ctx.completeNow();
                        })));
  }

  @Test
  void aFailedStatementInFrontOfTheCommitKeepsNothingAndItsErrorIsTheOutcome(VertxTestContext ctx) {
    Future<Object> failed =
        db.inWorkspaceCommittingEarly(
            workspace,
            (c, commit) -> {
              Future<RowSet<Row>> kept = insert(c, "not kept");
              Future<RowSet<Row>> broken = c.query("SELECT 1 / 0").execute();
              commit.now();
              return Future.all(kept, broken).map(x -> (Object) "stored");
            });
    failed
        .transform(
            ar -> {
              // more units than the pool has connections (2): each one got a clean connection
              List<Future<List<String>>> next = new ArrayList<>();
              for (int i = 0; i < 5; i++) {
                next.add(bodies());
              }
              return Future.all(next).map(all -> next.get(4).result());
            })
        .onComplete(
            ctx.succeeding(
                left ->
                    ctx.verify(
                        () -> {
                          assertThat(failed.cause()).isInstanceOf(PgException.class);
                          assertThat(((PgException) failed.cause()).getSqlState())
                              .isEqualTo("22012");
                          assertThat(left).isEmpty();
                          ctx.completeNow();
                        })));
  }

  @Test
  void aFailureTheWorkIgnoredStillFailsTheCommitInsteadOfBeingCommittedAsARollback(
      VertxTestContext ctx) {
    // PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, not an error: the commit
    // must not be reported as done when a statement before it failed, even one the work ignored
    Future<Object> outcome =
        db.inWorkspaceCommittingEarly(
            workspace,
            (c, commit) -> {
              Future<RowSet<Row>> kept = insert(c, "not kept");
              Future<Object> ignored =
                  c.query("SELECT 1 / 0")
                      .execute()
                      .map(x -> (Object) "ok")
                      .recover(e -> Future.succeededFuture("ignored"));
              return commit
                  .now()
                  .compose(v -> Future.all(kept, ignored))
                  .map(x -> (Object) "stored");
            });
    outcome
        .transform(ar -> bodies())
        .onComplete(
            ctx.succeeding(
                left ->
                    ctx.verify(
                        () -> {
                          assertThat(outcome.failed()).isTrue();
                          assertThat(left).isEmpty();
                          ctx.completeNow();
                        })));
  }

  @Test
  void workThatDoesNotCommitEarlyEndsAsAPipelinedUnit(VertxTestContext ctx) {
    Future<Object> refused =
        db.inWorkspaceCommittingEarly(
            workspace,
            (c, commit) ->
                insert(c, "rolled back")
                    .compose(x -> Future.failedFuture(new IllegalStateException("refused"))));
    refused
        .transform(
            ar -> db.inWorkspaceCommittingEarly(workspace, (c, commit) -> insert(c, "committed")))
        .compose(x -> bodies())
        .onComplete(
            ctx.succeeding(
                left ->
                    ctx.verify(
                        () -> {
                          assertThat(refused.cause()).hasMessage("refused");
                          assertThat(left).containsExactly("committed");
                          ctx.completeNow();
                        })));
  }
}
