package dev.umbra.controlplane.runs;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.controlplane.sharing.ShareKind;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;

/**
 * SQL of run records. Every method runs on a connection whose transaction already has its workspace
 * set (row-level security on).
 */
public final class RunStore {

  /**
   * Stores what a machine reported of a run (once per event id: a replayed report adds nothing).
   * Runs on the report's own transaction, after its signature was checked.
   */
  public Future<Void> record(SqlConnection conn, UUID wid, UUID machineId, RunRecord r) {
    return insert(conn, wid, machineId, r).mapEmpty();
  }

  /**
   * {@link #record}, telling whether a row was made: false when a row of the same id, event id or
   * run id exists (committed by another transaction, which this insert waited for).
   */
  public Future<Boolean> insert(SqlConnection conn, UUID wid, UUID machineId, RunRecord r) {
    return conn.preparedQuery(
            "INSERT INTO run_records (workspace_id, id, event_id, machine_id, kind, channel,"
                + " outcome, reason, exit_status, started_at, ended_at, duration_ms, bytes_in,"
                + " bytes_out, runtime, workflow_name, workflow_version, steps, run_id, reports)"
                + " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)"
                + " ON CONFLICT DO NOTHING")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  r.id(),
                  r.eventId(),
                  machineId,
                  r.kind(),
                  r.channel(),
                  r.outcome(),
                  r.reason(),
                  r.exitStatus(),
                  r.startedAt(),
                  r.endedAt(),
                  r.durationMs(),
                  r.bytesIn(),
                  r.bytesOut(),
                  r.runtime(),
                  r.workflow() == null ? null : r.workflow().name(),
                  r.workflow() == null ? null : r.workflow().version(),
                  r.workflow() == null ? null : r.workflow().steps(),
                  r.workflow() == null ? null : r.workflow().runId(),
                  r.workflow() == null ? null : r.workflow().reports()
                }))
        .map(rows -> rows.rowCount() == 1);
  }

  /**
   * A page of the runs the member may see: all for an admin, else those whose machine — and, for a
   * workflow run across machines, every machine that reported to it — is shared with one of its
   * teams; of one machine when {@code machineId} is set.
   */
  Future<List<RunRecord>> page(
      SqlConnection conn, boolean admin, UUID memberId, UUID machineId, UUID after, int limit) {
    return conn.preparedQuery(
            "SELECT r.* FROM run_records r JOIN machines m ON m.id = r.machine_id"
                + " WHERE r.id > $1 AND ($2 OR "
                + ShareKind.MACHINE.sharedWithMember("m", 3)
                + " AND NOT EXISTS (SELECT 1 FROM (SELECT (rep->>'machine_id')::uuid AS id FROM"
                + " jsonb_array_elements(COALESCE(r.reports, '[]'::jsonb)) rep) o WHERE NOT "
                + ShareKind.MACHINE.sharedWithMember("o", 3)
                + ")) AND ($4::uuid IS NULL OR r.machine_id = $4) ORDER BY r.id LIMIT $5")
        .execute(Tuple.of(after, admin, memberId, machineId, limit))
        .map(rows -> Rows.all(rows, RunRecord::of));
  }

  /** The record; null when none. */
  Future<RunRecord> get(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM run_records WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> Rows.first(rows, RunRecord::of));
  }
}
