package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.proto.api.Device;
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
 * SQL of the devices table. Every method runs on a connection whose transaction already has its
 * workspace set ({@code Tenancy.asMember}, row-level security on).
 */
final class DeviceStore {

  /** The device; null when none. */
  Future<Device> get(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM devices WHERE id = $1")
        .execute(Tuple.of(id))
        .map(DeviceStore::first);
  }

  /** The device, its row locked until the transaction ends; null when none. */
  Future<Device> lock(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM devices WHERE id = $1 FOR UPDATE")
        .execute(Tuple.of(id))
        .map(DeviceStore::first);
  }

  private static Device first(RowSet<Row> rows) {
    return Rows.first(rows, DeviceRows::of);
  }

  /** Up to {@code limit} devices with an id after {@code after}, by id. */
  Future<List<Device>> page(SqlConnection conn, UUID after, int limit) {
    return conn.preparedQuery("SELECT * FROM devices WHERE id > $1 ORDER BY id LIMIT $2")
        .execute(Tuple.of(after, limit))
        .map(rows -> Rows.all(rows, DeviceRows::of));
  }

  /**
   * Stores a device; false when one with this id or key exists. {@code credential} null for a
   * pending one.
   */
  Future<Boolean> add(
      SqlConnection conn,
      UUID wid,
      UUID account,
      TrustDocuments.DeviceRequest d,
      String status,
      SignedPayload credential,
      Integer version,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO devices (workspace_id, id, account_id, ed25519_public_key, p256_public_key, name, kind, status, "
                + "request_payload, request_signature, credential_payload, credential_signature, keyset_version, created_at, approved_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT DO NOTHING")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  d.id(),
                  account,
                  Buffer.buffer(d.signingKey().toBytes()),
                  Buffer.buffer(d.envelopeKey().toBytes()),
                  d.name(),
                  d.kind(),
                  status,
                  d.request().payload(),
                  Buffer.buffer(d.request().signature()),
                  credential == null ? null : credential.payload(),
                  credential == null ? null : Buffer.buffer(credential.signature()),
                  version,
                  now,
                  credential == null ? null : now
                }))
        .map(r -> r.rowCount() > 0);
  }

  Future<Void> trust(
      SqlConnection conn, UUID id, SignedPayload credential, int version, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE devices SET status = 'trusted', credential_payload = $2, credential_signature = $3, keyset_version = $4, approved_at = $5 WHERE id = $1")
        .execute(
            Tuple.of(id, credential.payload(), Buffer.buffer(credential.signature()), version, now))
        .mapEmpty();
  }

  Future<Void> deletePending(SqlConnection conn, UUID id) {
    return conn.preparedQuery("DELETE FROM devices WHERE id = $1 AND status = 'pending'")
        .execute(Tuple.of(id))
        .mapEmpty();
  }

  /** Marks a pending or trusted device revoked; false when it is neither. */
  Future<Boolean> revoke(
      SqlConnection conn, UUID id, SignedPayload revocation, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE devices SET status = 'revoked', revocation_payload = $2, revocation_signature = $3, revoked_at = $4 "
                + "WHERE id = $1 AND status IN ('pending', 'trusted')")
        .execute(Tuple.of(id, revocation.payload(), Buffer.buffer(revocation.signature()), now))
        .map(r -> r.rowCount() > 0);
  }

  /** The trusted devices (a rotation renews exactly these), in the table's order. */
  Future<List<Device>> trusted(SqlConnection conn) {
    return conn.preparedQuery("SELECT * FROM devices WHERE status = 'trusted'")
        .execute()
        .map(rows -> Rows.all(rows, DeviceRows::of));
  }

  Future<Void> renewCredential(SqlConnection conn, UUID id, SignedPayload credential, int version) {
    return conn.preparedQuery(
            "UPDATE devices SET credential_payload = $2, credential_signature = $3, keyset_version = $4 WHERE id = $1")
        .execute(Tuple.of(id, credential.payload(), Buffer.buffer(credential.signature()), version))
        .mapEmpty();
  }

  Future<Void> setWebTtyKey(SqlConnection conn, UUID id, SignedPayload key) {
    return conn.preparedQuery(
            "UPDATE devices SET webtty_key_payload = $2, webtty_key_signature = $3 WHERE id = $1")
        .execute(Tuple.of(id, key.payload(), Buffer.buffer(key.signature())))
        .mapEmpty();
  }

  /** Every device revocation, by device id. */
  Future<List<SignedDoc>> revocations(SqlConnection conn) {
    return docs(
        conn,
        "SELECT revocation_payload, revocation_signature FROM devices WHERE revocation_payload IS NOT NULL ORDER BY id",
        "revocation_payload",
        "revocation_signature");
  }

  /** The trusted devices' current credentials, by device id. */
  Future<List<SignedDoc>> trustedCredentials(SqlConnection conn) {
    return docs(
        conn,
        "SELECT credential_payload, credential_signature FROM devices WHERE status = 'trusted' AND credential_payload IS NOT NULL ORDER BY id",
        "credential_payload",
        "credential_signature");
  }

  private static Future<List<SignedDoc>> docs(
      SqlConnection conn, String sql, String payload, String signature) {
    return conn.preparedQuery(sql)
        .execute()
        .map(rows -> Rows.all(rows, r -> SignedDoc.of(r, payload, signature)));
  }
}
