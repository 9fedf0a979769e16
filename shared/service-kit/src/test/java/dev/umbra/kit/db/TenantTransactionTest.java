package dev.umbra.kit.db;

import static dev.umbra.kit.db.WorkspaceNotes.bodies;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.PostgresPerClass;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Tenant-scoped transactions against the real PostgreSQL, with row-level security forced. */
@ExtendWith(VertxExtension.class)
class TenantTransactionTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  private final WorkspaceNotes notes = new WorkspaceNotes(pg);
  private final UUID workspaceA = notes.workspaceA;
  private final UUID workspaceB = notes.workspaceB;
  private Database db;

  @BeforeEach
  void open(Vertx vertx, VertxTestContext ctx) {
    notes
        .open(vertx, 4)
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

  @Test
  void queryWithoutWorkspaceSeesNothing(VertxTestContext ctx) {
    db.withTransaction(c -> c.query("SELECT body FROM notes").execute())
        .onComplete(
            ctx.succeeding(
                rows ->
                    ctx.verify(
                        () -> {
                          assertThat(rows.size()).isZero();
                          ctx.completeNow();
                        })));
  }

  @Test
  void workspaceSeesOnlyItsOwnRows(VertxTestContext ctx) {
    db.inWorkspace(workspaceA, c -> c.query("SELECT body FROM notes").execute())
        .compose(
            a ->
                db.inWorkspace(workspaceB, c -> c.query("SELECT body FROM notes").execute())
                    .map(b -> List.of(bodies(a), bodies(b))))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.get(0)).containsExactly("a1", "a2");
                          assertThat(r.get(1)).containsExactly("b1");
                          ctx.completeNow();
                        })));
  }

  @Test
  void rejectsInsertOfARowForAnotherWorkspace(VertxTestContext ctx) {
    db.inWorkspace(
            workspaceA,
            c ->
                c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, 'x')")
                    .execute(Tuple.of(workspaceB)))
        .onComplete(
            ctx.failing(
                e ->
                    ctx.verify(
                        () -> {
                          assertThat(e.getMessage()).contains("row-level security");
                          ctx.completeNow();
                        })));
  }

  @Test
  void updateAndDeleteCannotReachAnotherWorkspace(VertxTestContext ctx) {
    db.inWorkspace(
            workspaceA,
            c ->
                c.query("UPDATE notes SET body = 'hacked'")
                    .execute()
                    .compose(
                        u ->
                            c.query("DELETE FROM notes WHERE body = 'b1'")
                                .execute()
                                .map(d -> List.of(u.rowCount(), d.rowCount()))))
        .compose(
            counts ->
                db.inWorkspace(workspaceB, c -> c.query("SELECT body FROM notes").execute())
                    .map(b -> List.of(counts, bodies(b))))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.get(0)).isEqualTo(List.of(2, 0));
                          assertThat(r.get(1)).isEqualTo(List.of("b1"));
                          ctx.completeNow();
                        })));
  }

  @Test
  void workspaceSettingDoesNotLeakIntoTheNextTransaction(VertxTestContext ctx) {
    db.inWorkspace(workspaceA, c -> c.query("SELECT 1").execute())
        .compose(
            v ->
                db.withTransaction(
                    c ->
                        c.query(
                                "SELECT current_setting('umbra.workspace_id', true) AS ws, current_user AS u")
                            .execute()))
        .onComplete(
            ctx.succeeding(
                rows ->
                    ctx.verify(
                        () -> {
                          Row row = rows.iterator().next();
                          assertThat(row.getString("ws"))
                              .isEqualTo(Database.NO_WORKSPACE.toString());
                          assertThat(row.getString("u")).isEqualTo("umbra_app");
                          ctx.completeNow();
                        })));
  }

  @Test
  void applicationRoleIsNeitherTableOwnerNorBypassRls() throws Exception {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      ResultSet r =
          st.executeQuery(
              "SELECT r.rolbypassrls, r.rolsuper, t.tableowner, c.relrowsecurity, c.relforcerowsecurity "
                  + "FROM pg_roles r, pg_tables t JOIN pg_class c ON c.relname = t.tablename "
                  + "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = t.schemaname "
                  + "WHERE r.rolname = 'umbra_app' AND t.schemaname = 'kittest' AND t.tablename = 'notes'");
      assertThat(r.next()).isTrue();
      assertThat(r.getBoolean(1)).as("BYPASSRLS").isFalse();
      assertThat(r.getBoolean(2)).as("superuser").isFalse();
      assertThat(r.getString(3)).isNotEqualTo("umbra_app");
      assertThat(r.getBoolean(4)).as("RLS enabled").isTrue();
      assertThat(r.getBoolean(5)).as("RLS forced").isTrue();
    }
  }

  @Test
  void rawSqlAsTheAppRoleWithAnotherWorkspaceReturnsNoRows() throws Exception {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute("SET LOCAL ROLE umbra_app");
      st.execute("SELECT set_config('umbra.workspace_id', '" + UUID.randomUUID() + "', true)");
      ResultSet r = st.executeQuery("SELECT count(*) FROM kittest.notes");
      r.next();
      assertThat(r.getLong(1)).isZero();
      c.rollback();
    }
  }

  // ---- statements sent together (BEGIN, the setting and the first statements pipelined) ----

  @Test
  void pipelinedWorkRunsAfterTheSettingInItsWorkspace(VertxTestContext ctx) {
    db.inWorkspacePipelined(workspaceA, c -> c.query("SELECT body FROM notes").execute())
        .onComplete(
            ctx.succeeding(
                rows ->
                    ctx.verify(
                        () -> {
                          assertThat(bodies(rows)).containsExactly("a1", "a2");
                          ctx.completeNow();
                        })));
  }

  @Test
  void statementsSentTogetherRunInTheOrderTheyWereIssuedAndCommitTogether(VertxTestContext ctx) {
    db.inWorkspacePipelined(
            workspaceA,
            c -> {
              Future<?> insert =
                  c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, $2)")
                      .execute(Tuple.of(workspaceA, "a3"));
              Future<RowSet<Row>> count = c.query("SELECT count(*) AS n FROM notes").execute();
              return Future.all(insert, count)
                  .map(x -> count.result().iterator().next().getLong("n"));
            })
        .compose(
            n ->
                db.inWorkspace(workspaceA, c -> c.query("SELECT body FROM notes").execute())
                    .map(rows -> List.of(n, bodies(rows))))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.get(0)).isEqualTo(3L);
                          assertThat(r.get(1)).isEqualTo(List.of("a1", "a2", "a3"));
                          ctx.completeNow();
                        })));
  }

  @Test
  void failedUnitsOfWorkAreRolledBackAndTheirConnectionsServeTheNextOnes(VertxTestContext ctx) {
    Future<Object> refused =
        db.inWorkspacePipelined(
            workspaceA,
            c ->
                c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, 'x')")
                    .execute(Tuple.of(workspaceA))
                    .compose(x -> Future.failedFuture(new IllegalStateException("refused"))));
    Future<Object> thrown =
        db.inWorkspace(
            workspaceA,
            c -> {
              throw new IllegalStateException("thrown");
            });
    Future<RowSet<Row>> broken =
        db.inWorkspacePipelined(
            workspaceA,
            c ->
                c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, 'y')")
                    .execute(Tuple.of(workspaceA))
                    .compose(x -> c.query("SELECT 1 / 0").execute()));
    Future.join(refused, thrown, broken)
        .transform(
            x -> {
              // more units than the pool has connections (4): each one got a clean connection
              List<Future<RowSet<Row>>> next = new ArrayList<>();
              for (int i = 0; i < 6; i++) {
                next.add(
                    db.inWorkspace(workspaceA, c -> c.query("SELECT body FROM notes").execute()));
              }
              return Future.all(next).map(all -> bodies(next.get(5).result()));
            })
        .onComplete(
            ctx.succeeding(
                left ->
                    ctx.verify(
                        () -> {
                          assertThat(refused.cause()).hasMessage("refused");
                          assertThat(thrown.cause()).hasMessage("thrown");
                          assertThat(broken.cause().getMessage()).contains("division by zero");
                          assertThat(left).containsExactly("a1", "a2");
                          ctx.completeNow();
                        })));
  }

  @Test
  void preparedStatementsAreParsedOncePerConnectionThenReused(VertxTestContext ctx) {
    String sql = "SELECT body FROM notes WHERE body = $1";
    db.inWorkspace(
            workspaceA,
            c ->
                c.preparedQuery(sql)
                    .execute(Tuple.of("a1"))
                    .compose(x -> c.preparedQuery(sql).execute(Tuple.of("a2")))
                    .compose(
                        x ->
                            c.preparedQuery(
                                    "SELECT count(*) AS n FROM pg_prepared_statements"
                                        + " WHERE statement = $1")
                                .execute(Tuple.of(sql))))
        .onComplete(
            ctx.succeeding(
                rows ->
                    ctx.verify(
                        () -> {
                          assertThat(rows.iterator().next().getLong("n")).isEqualTo(1L);
                          ctx.completeNow();
                        })));
  }

  @Test
  void statementsOfEveryColumnOfATableAreNotKeptPrepared() {
    assertThat(Database.keptPrepared("SELECT body FROM notes WHERE body = $1")).isTrue();
    assertThat(Database.keptPrepared("SELECT count(*) AS n FROM notes")).isTrue();
    assertThat(Database.keptPrepared("SELECT * FROM notes")).isFalse();
    assertThat(Database.keptPrepared("select i.* from notes i")).isFalse();
    assertThat(Database.keptPrepared("SELECT n.body, p.* FROM notes n, notes p")).isFalse();
    assertThat(Database.keptPrepared("UPDATE notes SET body = $1 RETURNING *")).isFalse();
    assertThat(Database.keptPrepared("SELECT 1 AS " + "x".repeat(3000))).isFalse();
  }

  @Test
  void aColumnAddedByAMigrationDoesNotBreakARunningPoolsStatements(
      Vertx vertx, VertxTestContext ctx) {
    String every = "SELECT * FROM notes WHERE body = $1";
    String named = "SELECT body FROM notes WHERE body = $1";
    Database.open(vertx, pg.location(), "kittest", "umbra_app", 1) // one connection: same cache
        .compose(
            one -> {
              Future<List<String>> before = twoStatements(one, every, named);
              return before
                  .compose(
                      x ->
                          vertx.executeBlocking(
                              () -> owner("ALTER TABLE kittest.notes ADD COLUMN extra text")))
                  .compose(x -> twoStatements(one, every, named))
                  .eventually(
                      () ->
                          vertx
                              .executeBlocking(
                                  () -> owner("ALTER TABLE kittest.notes DROP COLUMN extra"))
                              .compose(x -> one.close()))
                  .map(after -> List.of(before.result(), after));
            })
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.get(0)).containsExactly("a1", "a1");
                          assertThat(r.get(1)).containsExactly("a1", "a1");
                          ctx.completeNow();
                        })));
  }

  private Future<List<String>> twoStatements(Database one, String every, String named) {
    return one.inWorkspace(
        workspaceA,
        c ->
            c.preparedQuery(every)
                .execute(Tuple.of("a1"))
                .compose(
                    a ->
                        c.preparedQuery(named)
                            .execute(Tuple.of("a1"))
                            .map(b -> List.of(bodies(a).get(0), bodies(b).get(0)))));
  }

  private static Void owner(String sql) throws Exception {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
    return null;
  }

  // ---- the request role cannot leave row-level security (issue 13, finding 8) ----

  @Test
  void resetRoleInARequestTransactionStillSeesNoOtherWorkspace(VertxTestContext ctx) {
    db.inWorkspace(
            workspaceA,
            c ->
                c.query("RESET ROLE")
                    .execute()
                    .compose(
                        x ->
                            c.preparedQuery("SELECT body FROM notes WHERE workspace_id = $1")
                                .execute(Tuple.of(workspaceB)))
                    .compose(
                        b ->
                            c.query("SELECT body FROM notes")
                                .execute()
                                .map(all -> List.of(bodies(b), bodies(all)))))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.get(0)).isEmpty();
                          assertThat(r.get(1)).containsExactly("a1", "a2");
                          ctx.completeNow();
                        })));
  }

  @Test
  void resetRoleWithoutAWorkspaceSeesNothing(VertxTestContext ctx) {
    db.withTransaction(
            c ->
                c.query("RESET ROLE")
                    .execute()
                    .compose(x -> c.query("SELECT body FROM notes").execute()))
        .onComplete(
            ctx.succeeding(
                rows ->
                    ctx.verify(
                        () -> {
                          assertThat(rows.size()).isZero();
                          ctx.completeNow();
                        })));
  }

  @Test
  void setRoleToTheOwnerFromARequestTransactionIsRefused(VertxTestContext ctx) {
    String owner = pg.location().user();
    db.inWorkspace(workspaceA, c -> c.query("SET ROLE " + owner).execute())
        .onComplete(
            ctx.failing(
                e ->
                    ctx.verify(
                        () -> {
                          assertThat(e.getMessage()).contains("permission denied");
                          ctx.completeNow();
                        })));
  }

  @Test
  void sessionUserIsNotTheOwnerNorSuperuserNorBypassRlsNorAMemberOfOne(VertxTestContext ctx) {
    db.withTransaction(
            c ->
                c.preparedQuery(
                        "SELECT session_user::text AS who, r.rolsuper, r.rolbypassrls, "
                            + "pg_has_role(session_user, $1, 'MEMBER') AS owner_member, "
                            + "(SELECT nspowner FROM pg_namespace WHERE nspname = 'kittest') = r.oid AS owns_schema "
                            + "FROM pg_roles r WHERE r.rolname = session_user")
                    .execute(Tuple.of(pg.location().user())))
        .onComplete(
            ctx.succeeding(
                rows ->
                    ctx.verify(
                        () -> {
                          Row r = rows.iterator().next();
                          assertThat(r.getString("who"))
                              .isEqualTo("umbra_app")
                              .isNotEqualTo(pg.location().user());
                          assertThat(r.getBoolean("rolsuper")).as("superuser").isFalse();
                          assertThat(r.getBoolean("rolbypassrls")).as("BYPASSRLS").isFalse();
                          assertThat(r.getBoolean("owner_member"))
                              .as("member of the owner")
                              .isFalse();
                          assertThat(r.getBoolean("owns_schema")).as("schema owner").isFalse();
                          ctx.completeNow();
                        })));
  }

  @Test
  void refusesToOpenWhenTheRequestLoginIsTheOwner(Vertx vertx, VertxTestContext ctx) {
    Database.open(
            vertx, pg.location(), java.util.Optional.of(pg.location()), "kittest", "umbra_app", 2)
        .onComplete(ctx.failing(e -> ctx.completeNow()));
  }

  @Test
  void refusesToOpenWhenTheRequestLoginCanSetRoleToASuperuser(Vertx vertx, VertxTestContext ctx)
      throws Exception {
    String sneaky =
        "umbra_t_sneaky_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE " + sneaky + " LOGIN NOSUPERUSER NOBYPASSRLS");
      st.execute("GRANT " + pg.location().user() + " TO " + sneaky);
    }
    Database.open(
            vertx,
            pg.location(),
            java.util.Optional.of(pg.location().withUser(sneaky, null)),
            "kittest",
            "umbra_app",
            2)
        .onComplete(
            ar -> {
              try (Connection c = pg.ownerConnection();
                  Statement st = c.createStatement()) {
                st.execute("DROP OWNED BY " + sneaky);
                st.execute("DROP ROLE " + sneaky);
              } catch (Exception e) {
                // a leftover test role has no rights in any other database
              }
              ctx.verify(
                  () -> {
                    assertThat(ar.failed()).isTrue();
                    assertThat(ar.cause().getMessage())
                        .contains("row-level security would not hold");
                    ctx.completeNow();
                  });
            });
  }

  @Test
  void derivedRolePasswordIsStoredAsAScramVerifierNotAsText() throws Exception {
    String verifier =
        Migrations.scramVerifier(
            Migrations.derivedPassword(pg.location().withUser("x", "owner-secret"), "umbra_app"),
            "umbra_app");
    String probe = "umbra_t_scram_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE ROLE " + probe + " LOGIN PASSWORD '" + verifier + "'");
      try {
        ResultSet r =
            st.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + probe + "'");
        r.next();
        // PostgreSQL keeps a well-formed verifier as given (it would hash anything else as a
        // password)
        assertThat(r.getString(1)).isEqualTo(verifier).doesNotContain("owner-secret");
      } finally {
        st.execute("DROP ROLE " + probe);
      }
    }
  }

  @Test
  void scramVerifierMatchesTheOnePostgresqlComputesForTheSamePasswordAndSalt() throws Exception {
    String probe = "umbra_t_scram_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute("SET password_encryption = 'scram-sha-256'");
      st.execute("CREATE ROLE " + probe + " PASSWORD 'a derived password 0123456789abcdef'");
      try {
        ResultSet r =
            st.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + probe + "'");
        r.next();
        String theirs = r.getString(1); // SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
        String[] head =
            theirs.substring("SCRAM-SHA-256$".length(), theirs.indexOf('$', 14)).split(":");
        byte[] salt = java.util.Base64.getDecoder().decode(head[1]);
        assertThat(
                Migrations.scramVerifier(
                    "a derived password 0123456789abcdef", salt, Integer.parseInt(head[0])))
            .isEqualTo(theirs);
      } finally {
        st.execute("DROP ROLE " + probe);
      }
    }
  }
}
