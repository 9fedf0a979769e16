package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of the Recovery Kits. Every method runs on a connection whose transaction already has its
 * workspace set ({@code Tenancy.asMember}, row-level security on).
 */
final class RecoveryKitStore {

  Future<List<RecoveryKit>> all(SqlConnection conn) {
    return conn.preparedQuery("SELECT * FROM recovery_kits ORDER BY created_at, id")
        .execute()
        .map(rows -> Rows.all(rows, RecoveryKit::of));
  }

  /** The kit; null when none. */
  Future<RecoveryKit> get(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM recovery_kits WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : RecoveryKit.of(rows.iterator().next()));
  }

  /** Stores a pending kit; null when one with this id exists. */
  Future<RecoveryKit> add(
      SqlConnection conn, UUID wid, UUID id, SignedPayload kit, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO recovery_kits (workspace_id, id, payload, signature, status, created_at) VALUES ($1,$2,$3,$4,'pending',$5) ON CONFLICT DO NOTHING RETURNING *")
        .execute(Tuple.of(wid, id, kit.payload(), Buffer.buffer(kit.signature()), now))
        .map(rows -> rows.size() == 0 ? null : RecoveryKit.of(rows.iterator().next()));
  }

  /** Confirms a pending kit; false when it is not pending (or does not exist). */
  Future<Boolean> confirm(SqlConnection conn, UUID id, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE recovery_kits SET status = 'confirmed', confirmed_at = $2 WHERE id = $1 AND status = 'pending'")
        .execute(Tuple.of(id, now))
        .map(r -> r.rowCount() > 0);
  }

  /** Retires every confirmed kit but {@code keep} and drops the envelopes of all retired kits. */
  Future<Void> retireAllBut(SqlConnection conn, UUID keep) {
    return conn.preparedQuery(
            "UPDATE recovery_kits SET status = 'retired' WHERE id <> $1 AND status = 'confirmed'")
        .execute(Tuple.of(keep))
        .compose(
            x ->
                conn.preparedQuery(
                        "DELETE FROM keyset_envelopes WHERE recipient_kind = 'recovery' AND recipient_id IN (SELECT id FROM recovery_kits WHERE status = 'retired')")
                    .execute())
        .mapEmpty();
  }

  /** The ids of the kits not retired (a rotation keeps or retires each). */
  Future<List<UUID>> liveIds(SqlConnection conn) {
    return conn.preparedQuery("SELECT id FROM recovery_kits WHERE status <> 'retired'")
        .execute()
        .map(rows -> Rows.all(rows, r -> r.getUUID("id")));
  }

  Future<Void> retire(SqlConnection conn, UUID id) {
    return conn.preparedQuery("UPDATE recovery_kits SET status = 'retired' WHERE id = $1")
        .execute(Tuple.of(id))
        .mapEmpty();
  }

  Future<Void> renew(SqlConnection conn, UUID id, SignedPayload kit) {
    return conn.preparedQuery("UPDATE recovery_kits SET payload = $2, signature = $3 WHERE id = $1")
        .execute(Tuple.of(id, kit.payload(), Buffer.buffer(kit.signature())))
        .mapEmpty();
  }
}
