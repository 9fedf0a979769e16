package dev.umbra.controlplane.vault;

import dev.umbra.controlplane.db.Rows;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of the vault: entries, candidates, grants. Every method runs on a connection whose
 * transaction already has its workspace set (row-level security on).
 */
final class VaultStore {
  static final int MAX_LISTED = 10_000;

  Future<Boolean> hasKeyset(SqlConnection conn, int version) {
    return conn.preparedQuery("SELECT 1 FROM keysets WHERE version = $1")
        .execute(Tuple.of(version))
        .map(rows -> rows.size() > 0);
  }

  Future<Boolean> hasLiveMachine(SqlConnection conn, UUID machineId) {
    return conn.preparedQuery("SELECT 1 FROM machines WHERE id = $1 AND revoked_at IS NULL")
        .execute(Tuple.of(machineId))
        .map(rows -> rows.size() > 0);
  }

  Future<List<VaultEntry.Meta>> entries(SqlConnection conn) {
    return conn.preparedQuery(
            "SELECT id, name, keyset_version, octet_length(ciphertext) AS size, updated_at FROM vault_entries ORDER BY name LIMIT "
                + MAX_LISTED)
        .execute()
        .map(rows -> Rows.all(rows, VaultEntry.Meta::of));
  }

  /** Writes the entry of {@code s.name()} (a new one gets {@code id}); its metadata as stored. */
  Future<VaultEntry.Meta> putEntry(
      SqlConnection conn, UUID wid, UUID id, Sealed s, UUID writtenBy, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO vault_entries (workspace_id, id, name, keyset_version, enc, ciphertext, written_by, created_at, updated_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) ON CONFLICT (workspace_id, name) DO UPDATE SET keyset_version = excluded.keyset_version, "
                + "enc = excluded.enc, ciphertext = excluded.ciphertext, written_by = excluded.written_by, updated_at = excluded.updated_at "
                + "RETURNING id, name, keyset_version, octet_length(ciphertext) AS size, updated_at")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  id,
                  s.name(),
                  s.keysetVersion(),
                  Buffer.buffer(s.enc()),
                  Buffer.buffer(s.ciphertext()),
                  writtenBy,
                  now
                }))
        .map(rows -> Rows.first(rows, VaultEntry.Meta::of));
  }

  /** The entry; null when none. */
  Future<VaultEntry> entry(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM vault_entries WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> Rows.first(rows, VaultEntry::of));
  }

  /** The entry named {@code name}; null when none. */
  Future<VaultEntry> entryNamed(SqlConnection conn, String name) {
    return conn.preparedQuery("SELECT * FROM vault_entries WHERE name = $1")
        .execute(Tuple.of(name))
        .map(rows -> Rows.first(rows, VaultEntry::of));
  }

  /** Deletes the entry; false when none. */
  Future<Boolean> deleteEntry(SqlConnection conn, UUID id) {
    return conn.preparedQuery("DELETE FROM vault_entries WHERE id = $1")
        .execute(Tuple.of(id))
        .map(r -> r.rowCount() > 0);
  }

  Future<List<VaultCandidate>> candidates(SqlConnection conn) {
    return conn.preparedQuery(
            "SELECT * FROM vault_candidates ORDER BY created_at, id LIMIT " + MAX_LISTED)
        .execute()
        .map(rows -> Rows.all(rows, VaultCandidate::of));
  }

  Future<VaultCandidate> addCandidate(
      SqlConnection conn, UUID wid, UUID id, Sealed s, UUID proposedBy, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO vault_candidates (workspace_id, id, name, keyset_version, enc, ciphertext, proposed_by, created_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  id,
                  s.name(),
                  s.keysetVersion(),
                  Buffer.buffer(s.enc()),
                  Buffer.buffer(s.ciphertext()),
                  proposedBy,
                  now
                }))
        .map(rows -> Rows.first(rows, VaultCandidate::of));
  }

  /** The candidate; null when none. */
  Future<VaultCandidate> candidate(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM vault_candidates WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> Rows.first(rows, VaultCandidate::of));
  }

  /** Deletes the candidate; false when none. */
  Future<Boolean> deleteCandidate(SqlConnection conn, UUID id) {
    return conn.preparedQuery("DELETE FROM vault_candidates WHERE id = $1")
        .execute(Tuple.of(id))
        .map(r -> r.rowCount() > 0);
  }

  /** Every grant, by machine id, without its bytes. */
  Future<List<VaultGrant>> grants(SqlConnection conn) {
    return conn.preparedQuery(
            "SELECT machine_id, keyset_version, created_at FROM vault_grants ORDER BY machine_id")
        .execute()
        .map(
            rows ->
                Rows.all(
                    rows,
                    r ->
                        new VaultGrant(
                            r.getUUID("machine_id"),
                            r.getInteger("keyset_version"),
                            r.getOffsetDateTime("created_at"),
                            null,
                            null)));
  }

  /** The machine's grant; null when none. */
  Future<VaultGrant> grant(SqlConnection conn, UUID machineId) {
    return conn.preparedQuery(
            "SELECT keyset_version, enc, ciphertext FROM vault_grants WHERE machine_id = $1")
        .execute(Tuple.of(machineId))
        .map(
            rows ->
                Rows.first(
                    rows,
                    r ->
                        new VaultGrant(
                            machineId,
                            r.getInteger("keyset_version"),
                            null,
                            r.getBuffer("enc").getBytes(),
                            r.getBuffer("ciphertext").getBytes())));
  }

  Future<Void> putGrant(SqlConnection conn, UUID wid, VaultGrant g, UUID grantedBy) {
    return conn.preparedQuery(
            "INSERT INTO vault_grants (workspace_id, machine_id, keyset_version, enc, ciphertext, granted_by, created_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (workspace_id, machine_id) DO UPDATE SET keyset_version = excluded.keyset_version, "
                + "enc = excluded.enc, ciphertext = excluded.ciphertext, granted_by = excluded.granted_by, created_at = excluded.created_at")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  g.machineId(),
                  g.keysetVersion(),
                  Buffer.buffer(g.enc()),
                  Buffer.buffer(g.ciphertext()),
                  grantedBy,
                  g.createdAt()
                }))
        .mapEmpty();
  }

  /** Withdraws the machine's grant; false when none. */
  Future<Boolean> deleteGrant(SqlConnection conn, UUID machineId) {
    return conn.preparedQuery("DELETE FROM vault_grants WHERE machine_id = $1")
        .execute(Tuple.of(machineId))
        .map(r -> r.rowCount() > 0);
  }
}
