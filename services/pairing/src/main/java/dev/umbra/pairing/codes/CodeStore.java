package dev.umbra.pairing.codes;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The SQL of pairing codes and workspace PSKs. Every call but {@link #findPending} runs inside its
 * workspace ({@code Database.inWorkspace}); {@link #findPending} runs in a plain transaction, where
 * row-level security shows only the row of the code hash it sets.
 */
final class CodeStore {

  /** A code found by its hash that may be claimed. */
  record Found(UUID id, UUID workspaceId, boolean requirePsk) {
    static Found of(Row r) {
      return new Found(r.getUUID("id"), r.getUUID("workspace_id"), r.getBoolean("require_psk"));
    }
  }

  Future<Boolean> hasPsk(SqlConnection conn) {
    return conn.preparedQuery("SELECT 1 FROM workspace_psks")
        .execute()
        .map(rows -> rows.size() > 0);
  }

  Future<PairingCode> insert(
      SqlConnection conn,
      UUID workspaceId,
      UUID id,
      byte[] codeHash,
      boolean requirePsk,
      String createdBy,
      OffsetDateTime now,
      OffsetDateTime expiresAt) {
    return conn.preparedQuery(
            "INSERT INTO codes (workspace_id, id, code_hash, require_psk, created_by, created_at, expires_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {
                  workspaceId, id, Buffer.buffer(codeHash), requirePsk, createdBy, now, expiresAt
                }))
        .map(rows -> PairingCode.of(rows.iterator().next()));
  }

  /** Up to {@code fetch} codes pending at {@code now} with an id after {@code after}, by id. */
  Future<List<PairingCode>> pending(SqlConnection conn, OffsetDateTime now, UUID after, int fetch) {
    return conn.preparedQuery(
            "SELECT * FROM codes WHERE used_at IS NULL AND cancelled_at IS NULL AND expires_at > $1 AND id > $2 ORDER BY id LIMIT $3")
        .execute(Tuple.of(now, after, fetch))
        .map(
            rows -> {
              List<PairingCode> out = new ArrayList<>();
              rows.forEach(r -> out.add(PairingCode.of(r)));
              return out;
            });
  }

  /** Cancels a code that is neither used nor cancelled; false when there is none. */
  Future<Boolean> cancel(SqlConnection conn, UUID id, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE codes SET cancelled_at = $2 WHERE id = $1 AND used_at IS NULL AND cancelled_at IS NULL")
        .execute(Tuple.of(id, now))
        .map(r -> r.rowCount() > 0);
  }

  Future<Void> setPsk(
      SqlConnection conn, UUID workspaceId, String pskHash, OffsetDateTime now, String by) {
    return conn.preparedQuery(
            "INSERT INTO workspace_psks (workspace_id, psk_hash, updated_at, updated_by) VALUES ($1,$2,$3,$4) "
                + "ON CONFLICT (workspace_id) DO UPDATE SET psk_hash = excluded.psk_hash, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
        .execute(Tuple.of(workspaceId, pskHash, now, by))
        .mapEmpty();
  }

  Future<Void> clearPsk(SqlConnection conn, UUID workspaceId) {
    return conn.preparedQuery("DELETE FROM workspace_psks WHERE workspace_id = $1")
        .execute(Tuple.of(workspaceId))
        .mapEmpty();
  }

  /** The workspace's PSK hash, empty when it has none. */
  Future<Optional<String>> pskHash(SqlConnection conn) {
    return conn.preparedQuery("SELECT psk_hash FROM workspace_psks")
        .execute()
        .map(
            rows ->
                rows.size() == 0
                    ? Optional.empty()
                    : Optional.of(rows.iterator().next().getString("psk_hash")));
  }

  /**
   * The pending code whose hash is {@code hashHex} (used, cancelled and expired codes are not
   * found); {@code conn} must be in a transaction, which the hash setting lasts for.
   */
  Future<Optional<Found>> findPending(SqlConnection conn, String hashHex, OffsetDateTime now) {
    return conn.preparedQuery("SELECT set_config('umbra.pairing_code_hash', $1, true)")
        .execute(Tuple.of(hashHex))
        .compose(
            x ->
                conn.preparedQuery(
                        "SELECT id, workspace_id, require_psk FROM codes WHERE code_hash = decode($1, 'hex') "
                            + "AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > $2")
                    .execute(Tuple.of(hashHex, now)))
        .map(
            rows ->
                rows.size() == 0
                    ? Optional.<Found>empty()
                    : Optional.of(Found.of(rows.iterator().next())));
  }

  /** The atomic step: of concurrent claims of one code exactly one returns true. */
  Future<Boolean> claim(SqlConnection conn, UUID id, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > $2")
        .execute(Tuple.of(id, now))
        .map(r -> r.rowCount() == 1);
  }

  /** Undoes a claim that has no machine yet, so the code can be tried again. */
  Future<Void> release(SqlConnection conn, UUID id) {
    return conn.preparedQuery(
            "UPDATE codes SET used_at = NULL WHERE id = $1 AND machine_id IS NULL")
        .execute(Tuple.of(id))
        .mapEmpty();
  }

  /** Records the machine a claimed code created. */
  Future<Void> recordMachine(SqlConnection conn, UUID id, UUID machineId) {
    return conn.preparedQuery("UPDATE codes SET machine_id = $2 WHERE id = $1")
        .execute(Tuple.of(id, machineId))
        .mapEmpty();
  }
}
