package dev.umbra.kit.db;

import dev.umbra.kit.testing.PostgresPerClass;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The tenant tests' set-up: a pool as the request role over the kit's test schema {@code kittest},
 * with the notes a1 and a2 in workspace A and b1 in workspace B; {@link #close} empties the table
 * and closes the pool.
 */
final class WorkspaceNotes {
  final UUID workspaceA = UUID.randomUUID();
  final UUID workspaceB = UUID.randomUUID();
  private final PostgresPerClass pg;
  private Database db;

  WorkspaceNotes(PostgresPerClass pg) {
    this.pg = pg;
  }

  /** Opens a pool of {@code poolSize} connections and stores the three notes through it. */
  Future<Database> open(Vertx vertx, int poolSize) {
    return Database.open(vertx, pg.location(), "kittest", "umbra_app", poolSize)
        .compose(
            d -> {
              db = d;
              return Future.all(
                      insert(workspaceA, "a1"), insert(workspaceA, "a2"), insert(workspaceB, "b1"))
                  .map(d);
            });
  }

  Future<Void> close() throws SQLException {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE kittest.notes");
    }
    return db.close();
  }

  private Future<Void> insert(UUID ws, String body) {
    return db.inWorkspace(
        ws,
        c ->
            c.preparedQuery("INSERT INTO notes (workspace_id, body) VALUES ($1, $2)")
                .execute(Tuple.of(ws, body))
                .mapEmpty());
  }

  /** The notes' bodies of {@code rows}, sorted. */
  static List<String> bodies(RowSet<Row> rows) {
    List<String> out = new ArrayList<>();
    rows.forEach(r -> out.add(r.getString("body")));
    out.sort(String::compareTo);
    return out;
  }
}
