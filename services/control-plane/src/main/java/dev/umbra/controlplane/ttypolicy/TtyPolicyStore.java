package dev.umbra.controlplane.ttypolicy;

import dev.umbra.controlplane.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * SQL of WebTTY policies. Every method runs on a connection whose transaction already has its
 * workspace set (row-level security on).
 */
final class TtyPolicyStore {

  /** The machine's stored policy; null when none was set. */
  Future<TtyPolicy> get(SqlConnection conn, UUID mid, boolean forUpdate) {
    return conn.preparedQuery(
            "SELECT * FROM webtty_policies WHERE machine_id = $1"
                + (forUpdate ? " FOR UPDATE" : ""))
        .execute(Tuple.of(mid))
        .map(rows -> Rows.first(rows, TtyPolicy::of));
  }

  Future<Boolean> machineExists(SqlConnection conn, UUID mid) {
    return conn.preparedQuery("SELECT 1 FROM machines WHERE id = $1")
        .execute(Tuple.of(mid))
        .map(rows -> rows.size() > 0);
  }

  /** Stores the document unless a version as high is stored (then null). */
  Future<TtyPolicy> put(
      SqlConnection conn,
      UUID wid,
      UUID mid,
      TtyPolicyDocument doc,
      UUID setBy,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO webtty_policies (workspace_id, machine_id, version, recording, join_policy, "
                + "record_stdin, payload, signature, signer_device_id, set_by, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
                + "ON CONFLICT (workspace_id, machine_id) DO UPDATE SET version = EXCLUDED.version, recording = EXCLUDED.recording, "
                + "join_policy = EXCLUDED.join_policy, record_stdin = EXCLUDED.record_stdin, payload = EXCLUDED.payload, "
                + "signature = EXCLUDED.signature, signer_device_id = EXCLUDED.signer_device_id, set_by = EXCLUDED.set_by, "
                + "updated_at = EXCLUDED.updated_at WHERE webtty_policies.version < EXCLUDED.version RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  mid,
                  doc.version(),
                  doc.recording(),
                  doc.join(),
                  doc.recordStdin(),
                  doc.payload(),
                  doc.signature() == null ? null : Buffer.buffer(doc.signature()),
                  doc.signer(),
                  setBy,
                  now
                }))
        .map(rows -> Rows.first(rows, TtyPolicy::of));
  }
}
