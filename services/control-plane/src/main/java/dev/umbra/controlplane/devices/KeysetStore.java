package dev.umbra.controlplane.devices;

import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * SQL of the keyset chain and the keyset envelopes. Every method runs on a connection whose
 * transaction already has its workspace set ({@code Tenancy.asMember}, row-level security on).
 */
final class KeysetStore {

  /** The newest keyset; null when the workspace has none. */
  Future<CurrentKeyset> current(SqlConnection conn) {
    return conn.preparedQuery("SELECT version, payload FROM keysets ORDER BY version DESC LIMIT 1")
        .execute()
        .map(
            rows -> {
              if (rows.size() == 0) {
                return null;
              }
              Row r = rows.iterator().next();
              @SuppressWarnings("unchecked")
              Map<String, Object> f =
                  (Map<String, Object>) CanonicalJson.parse(r.getString("payload"));
              return new CurrentKeyset(
                  r.getInteger("version"),
                  Ed25519PublicKey.fromHex((String) f.get("signing_public_key")));
            });
  }

  /**
   * Serializes the operations that depend on the current keyset version (approve, revoke, kits,
   * rotation) per workspace, so an approval cannot land with a version a concurrent rotation
   * retired.
   */
  Future<Void> lock(SqlConnection conn, UUID wid) {
    return conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtext($1))")
        .execute(Tuple.of("keyset:" + wid))
        .mapEmpty();
  }

  /**
   * {@link #lock}, then the current keyset, which must exist ({@link CurrentKeyset#required}: 409
   * no_keyset otherwise).
   */
  Future<CurrentKeyset> lockCurrent(SqlConnection conn, UUID wid) {
    return lock(conn, wid).compose(x -> current(conn)).compose(CurrentKeyset::required);
  }

  Future<KeysetChain> chain(SqlConnection conn) {
    return conn.preparedQuery("SELECT version, payload, signature FROM keysets ORDER BY version")
        .execute()
        .map(
            rows -> {
              List<SignedDoc> all = new ArrayList<>();
              int v = 0;
              for (Row r : rows) {
                all.add(SignedDoc.of(r, "payload", "signature"));
                v = r.getInteger("version");
              }
              return new KeysetChain(all, v == 0 ? null : v);
            });
  }

  /** Stores the first keyset; false when the workspace already has one. */
  Future<Boolean> addFirst(SqlConnection conn, UUID wid, SignedPayload keyset, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO keysets (workspace_id, version, payload, signature, created_at) VALUES ($1, 1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .execute(Tuple.of(wid, keyset.payload(), Buffer.buffer(keyset.signature()), now))
        .map(r -> r.rowCount() > 0);
  }

  /** Stores the next keyset and drops the envelopes of older versions (their key is retired). */
  Future<Void> addNext(
      SqlConnection conn, UUID wid, int version, SignedPayload keyset, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO keysets (workspace_id, version, payload, signature, created_at) VALUES ($1,$2,$3,$4,$5)")
        .execute(Tuple.of(wid, version, keyset.payload(), Buffer.buffer(keyset.signature()), now))
        .compose(
            x ->
                conn.preparedQuery("DELETE FROM keyset_envelopes WHERE keyset_version < $1")
                    .execute(Tuple.of(version)))
        .mapEmpty();
  }

  Future<Void> putEnvelope(
      SqlConnection conn,
      UUID wid,
      int version,
      SealedEnvelope.Recipient kind,
      UUID recipient,
      String envelope,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO keyset_envelopes (workspace_id, keyset_version, recipient_kind, recipient_id, envelope, created_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (workspace_id, keyset_version, recipient_kind, recipient_id) DO UPDATE SET envelope = excluded.envelope, created_at = excluded.created_at")
        .execute(Tuple.of(wid, version, kind.column, recipient, envelope, now))
        .mapEmpty();
  }

  /** The recipient's envelope of the newest version; null when none. */
  Future<SealedEnvelope> newestEnvelope(
      SqlConnection conn, SealedEnvelope.Recipient kind, UUID id) {
    return conn.preparedQuery(
            "SELECT keyset_version, envelope FROM keyset_envelopes WHERE recipient_kind = $1 AND recipient_id = $2 ORDER BY keyset_version DESC LIMIT 1")
        .execute(Tuple.of(kind.column, id))
        .map(
            rows ->
                rows.size() == 0
                    ? null
                    : new SealedEnvelope(
                        rows.iterator().next().getInteger("keyset_version"),
                        rows.iterator().next().getString("envelope")));
  }

  Future<Void> dropEnvelopes(SqlConnection conn, SealedEnvelope.Recipient kind, UUID id) {
    return conn.preparedQuery(
            "DELETE FROM keyset_envelopes WHERE recipient_kind = $1 AND recipient_id = $2")
        .execute(Tuple.of(kind.column, id))
        .mapEmpty();
  }
}
