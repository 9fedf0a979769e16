package dev.umbra.kit.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.PostgresPerClass;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
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
 * statements, against the real PostgreSQL with row-level security forced.
 */
@ExtendWith(VertxExtension.class)
class ReadInWorkspaceTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  private final WorkspaceNotes notes = new WorkspaceNotes(pg);
  private final UUID workspaceA = notes.workspaceA;
  private final UUID workspaceB = notes.workspaceB;
  private Database db;

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
        .transform(
            x -> {
              // more reads than the pool has connections (2): each one got a clean connection
              List<Future<List<String>>> next = new ArrayList<>();
              for (int i = 0; i < 5; i++) {
                next.add(bodies(workspaceA));
              }
              return Future.all(next).map(all -> next.get(4).result());
            })
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
}
