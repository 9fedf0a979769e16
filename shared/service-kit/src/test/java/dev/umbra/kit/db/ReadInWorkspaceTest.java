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
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Database#readInWorkspace}: a read sent in one round trip, its {@code COMMIT} behind its
 * statements; and {@link Database#inWorkspaceCommittingEarly}: a unit of work that sends its {@code
 * COMMIT} behind its last statements without waiting for their answers (both a {@link
 * PlainTransaction}) — against the real PostgreSQL with row-level security forced.
 */
@ExtendWith(VertxExtension.class)
class ReadInWorkspaceTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  private final WorkspaceNotes notes = new WorkspaceNotes(pg);
  private final UUID workspaceA = notes.workspaceA;
  private final UUID workspaceB = notes.workspaceB;
  private Database db;
  private final UUID workspaceC = UUID.randomUUID(); // no rows: the early commits' tests

  @BeforeEach
  void open(Vertx vertx, VertxTestContext ctx) {
    notes
        .open(vertx, 2)
        .onComplete(
            ctx.succeeding(
                d -> {
                  db = d;
                  ctx.completeNow();
                }));
  }

  @AfterEach
  void close(VertxTestContext ctx) throws Exception {
    notes.close().onComplete(ctx.succeedingThenComplete());
  }

  private Future<List<String>> bodies(UUID ws) {
    return db.readInWorkspace(ws, c -> c.query("SELECT body FROM notes").execute())
        .map(WorkspaceNotes::bodies);
  }

  /**
   * The bodies of {@code ws} read by more units than the pool has connections (2): each one must
   * have got a clean connection back.
   */
  private Future<List<String>> afterCleanConnections(UUID ws) {
    List<Future<List<String>>> next = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      next.add(bodies(ws));
    }
    return Future.all(next).map(all -> next.get(4).result());
  }

  @Test
  void aReadSeesItsWorkspaceOnly(VertxTestContext ctx) {
    Future.all(bodies(workspaceA), bodies(workspaceB))
        .onComplete(
            ctx.succeeding(
                all ->
                    ctx.verify(
                        () -> {
                          assertThat(all.<List<String>>resultAt(0)).containsExactly("a1", "a2");
                          assertThat(all.<List<String>>resultAt(1)).containsExactly("b1");
                          ctx.completeNow();
                        })));
  }

  @Test
  void aReadCannotWrite(VertxTestContext ctx) {
    db.readInWorkspace(
            workspaceA,
            c ->
                c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, 'x')")
                    .execute(Tuple.of(workspaceA)))
        .transform(
            ar ->
                bodies(workspaceA)
                    .map(left -> List.of(ar.failed() ? ar.cause().getMessage() : "stored", left)))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat((String) r.get(0)).contains("read-only transaction");
                          assertThat(r.get(1)).isEqualTo(List.of("a1", "a2"));
                          ctx.completeNow();
                        })));
  }

  @Test
  void aFailedReadFailsAndItsConnectionServesTheNextReads(VertxTestContext ctx) {
    Future<RowSet<Row>> broken =
        db.readInWorkspace(workspaceA, c -> c.query("SELECT 1 / 0").execute());
    Future<Object> thrown =
        db.readInWorkspace(
            workspaceA,
            c -> {
              throw new IllegalStateException("thrown");
            });
    Future.join(broken, thrown)
        .transform(x -> afterCleanConnections(workspaceA))
        .onComplete(
            ctx.succeeding(
                left ->
                    ctx.verify(
                        () -> {
                          assertThat(broken.cause().getMessage()).contains("division by zero");
                          assertThat(thrown.cause()).hasMessage("thrown");
                          assertThat(left).containsExactly("a1", "a2");
                          ctx.completeNow();
                        })));
  }

  @Test
  void aStatementIssuedAfterAnAnswerRunsAfterTheCommitAndSeesNoWorkspace(VertxTestContext ctx) {
    // misuse: the COMMIT went out behind the first statement, so the second one runs outside the
    // transaction, where the workspace setting is gone: it fails or sees nothing, never a1/a2
    db.readInWorkspace(
            workspaceA,
            c ->
                c.preparedQuery("SELECT body FROM notes WHERE body = $1")
                    .execute(Tuple.of("a1"))
                    .compose(first -> c.query("SELECT body FROM notes").execute()))
        .onComplete(
            ar ->
                ctx.verify(
                    () -> {
                      if (ar.succeeded()) {
                        assertThat(WorkspaceNotes.bodies(ar.result())).isEmpty();
                      }
                      ctx.completeNow();
                    }));
  }

  private Future<RowSet<Row>> insert(io.vertx.sqlclient.SqlConnection c, String body) {
    return c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, $2)")
        .execute(Tuple.of(workspaceC, body));
  }

  @Test
  void theCommitGoesOutBeforeTheWorkEndsSoOthersSeeItsRowsFirst(VertxTestContext ctx) {
    // the work ends only after another transaction has read what it wrote: possible only if its
    // COMMIT did not wait for the work's outcome (with inWorkspacePipelined this never completes)
    db.inWorkspaceCommittingEarly(
            workspaceC,
            (c, commit) -> {
              Future<RowSet<Row>> one = insert(c, "one");
              Future<RowSet<Row>> two = insert(c, "two");
              Future<Void> committed = commit.now();
              assertThat(commit.now()).isSameAs(committed);
              return Future.all(one, two).compose(x -> committed).compose(v -> bodies(workspaceC));
            })
        .compose(seen -> bodies(workspaceC).map(after -> List.of(seen, after)))
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
            workspaceC,
            (c, commit) -> {
              Future<RowSet<Row>> kept = insert(c, "not kept");
              Future<RowSet<Row>> broken = c.query("SELECT 1 / 0").execute();
              commit.now();
              return Future.all(kept, broken).map(x -> (Object) "stored");
            });
    failed
        .transform(x -> afterCleanConnections(workspaceC))
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
            workspaceC,
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
        .transform(ar -> bodies(workspaceC))
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
            workspaceC,
            (c, commit) ->
                insert(c, "rolled back")
                    .compose(x -> Future.failedFuture(new IllegalStateException("refused"))));
    refused
        .transform(
            ar -> db.inWorkspaceCommittingEarly(workspaceC, (c, commit) -> insert(c, "committed")))
        .compose(x -> bodies(workspaceC))
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
