package dev.umbra.controlplane.workflows;

import dev.umbra.controlplane.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of workflows. Every method runs on a connection whose transaction already has its workspace
 * set (row-level security on).
 */
final class WorkflowStore {
  static final int MAX_LIST = 500;

  /** The workflow of that name, deleted or not; null when there never was one. */
  Future<Workflow> get(SqlConnection conn, String name, boolean forUpdate) {
    return conn.preparedQuery(
            "SELECT * FROM workflows WHERE name = $1" + (forUpdate ? " FOR UPDATE" : ""))
        .execute(Tuple.of(name))
        .map(rows -> Rows.first(rows, Workflow::of));
  }

  /** The workflows not deleted, by name. */
  Future<List<Workflow>> list(SqlConnection conn) {
    return conn.preparedQuery(
            "SELECT * FROM workflows WHERE yaml IS NOT NULL ORDER BY name LIMIT " + MAX_LIST)
        .execute()
        .map(rows -> Rows.all(rows, Workflow::of));
  }

  /** Stores the version unless one as high is stored (then null). */
  Future<Workflow> put(SqlConnection conn, UUID wid, Workflow w) {
    return conn.preparedQuery(
            "INSERT INTO workflows (workspace_id, name, version, yaml, signature, signer_device_id,"
                + " set_by, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (workspace_id,"
                + " name) DO UPDATE SET version = EXCLUDED.version, yaml = EXCLUDED.yaml, signature"
                + " = EXCLUDED.signature, signer_device_id = EXCLUDED.signer_device_id, set_by ="
                + " EXCLUDED.set_by, updated_at = EXCLUDED.updated_at WHERE workflows.version <"
                + " EXCLUDED.version RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  w.name(),
                  w.version(),
                  w.yaml(),
                  Buffer.buffer(w.signature()),
                  w.signerDeviceId(),
                  w.setBy(),
                  w.updatedAt()
                }))
        .map(rows -> Rows.first(rows, Workflow::of));
  }

  /** Deletes the text and signature, keeping the version; null when there was none to delete. */
  Future<Workflow> delete(SqlConnection conn, String name, UUID by, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE workflows SET yaml = NULL, signature = NULL, set_by = $2, updated_at = $3"
                + " WHERE name = $1 AND yaml IS NOT NULL RETURNING *")
        .execute(Tuple.of(name, by, now))
        .map(rows -> Rows.first(rows, Workflow::of));
  }
}
