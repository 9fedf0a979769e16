package dev.umbra.controlplane.machines;

import dev.umbra.controlplane.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of machines. Every method runs on a connection whose transaction already has its workspace
 * set (row-level security on).
 */
final class MachineStore {

  private static Machine first(RowSet<Row> rows) {
    return Rows.first(rows, Machine::of);
  }

  Future<List<Machine>> page(SqlConnection conn, UUID after, int limit) {
    return conn.preparedQuery("SELECT * FROM machines WHERE id > $1 ORDER BY id LIMIT $2")
        .execute(Tuple.of(after, limit))
        .map(rows -> Rows.all(rows, Machine::of));
  }

  /** The machine; null when none. */
  Future<Machine> get(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM machines WHERE id = $1")
        .execute(Tuple.of(id))
        .map(MachineStore::first);
  }

  Future<Void> rename(SqlConnection conn, UUID id, String name) {
    return conn.preparedQuery("UPDATE machines SET name = $2 WHERE id = $1")
        .execute(Tuple.of(id, name))
        .mapEmpty();
  }

  /**
   * Marks the machine revoked (once: a second revocation keeps the first time); false when none.
   */
  Future<Boolean> revoke(SqlConnection conn, UUID id, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE machines SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1")
        .execute(Tuple.of(id, now))
        .map(r -> r.rowCount() > 0);
  }

  Future<Boolean> workspaceExists(SqlConnection conn, UUID wid) {
    return conn.preparedQuery("SELECT 1 FROM workspaces WHERE id = $1")
        .execute(Tuple.of(wid))
        .map(rows -> rows.size() > 0);
  }

  /** Stores a new binding; null when this install is already bound to the workspace. */
  Future<Machine> add(
      SqlConnection conn, UUID wid, UUID id, Machine.Binding b, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO machines (workspace_id, id, install_id, x25519_public_key, ed25519_public_key, name, os, paired_by, created_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (workspace_id, install_id) DO NOTHING RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  id,
                  b.installId(),
                  Buffer.buffer(b.x25519PublicKey()),
                  Buffer.buffer(b.ed25519PublicKey()),
                  b.name(),
                  b.os(),
                  b.pairedBy(),
                  now
                }))
        .map(MachineStore::first);
  }

  /**
   * Records a session request signed at {@code timestampMs}; false unless it is later than the
   * machine's last one (timestamps increase strictly per machine, so a replay updates nothing).
   */
  Future<Boolean> touchSession(SqlConnection conn, UUID id, OffsetDateTime now, long timestampMs) {
    return conn.preparedQuery(
            "UPDATE machines SET last_seen_at = $2, last_session_ms = $3 "
                + "WHERE id = $1 AND (last_session_ms IS NULL OR last_session_ms < $3)")
        .execute(Tuple.of(id, now, timestampMs))
        .map(r -> r.rowCount() == 1);
  }
}
