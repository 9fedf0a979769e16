package dev.umbra.controlplane.messaging;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** The SQL of prekey bundles and one-time prekeys (inside the workspace's transaction). */
final class PrekeyStore {
  record Bundle(
      UUID principalId,
      String principalKind,
      byte[] identityKey,
      byte[] signedPrekey,
      long signedPrekeyId,
      OffsetDateTime signedPrekeyExpiresAt) {}

  record OneTime(long id, byte[] publicKey) {}

  Future<Void> upsert(SqlConnection conn, UUID wid, Bundle b, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO prekey_bundles (workspace_id, principal_id, principal_kind, identity_key,"
                + " signed_prekey, signed_prekey_id, signed_prekey_expires_at, updated_at)"
                + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (workspace_id, principal_id)"
                + " DO UPDATE SET identity_key = $4, signed_prekey = $5, signed_prekey_id = $6,"
                + " signed_prekey_expires_at = $7, updated_at = $8")
        .execute(
            Tuple.from(
                List.of(
                    wid,
                    b.principalId(),
                    b.principalKind(),
                    Buffer.buffer(b.identityKey()),
                    Buffer.buffer(b.signedPrekey()),
                    b.signedPrekeyId(),
                    b.signedPrekeyExpiresAt(),
                    now)))
        .mapEmpty();
  }

  /** Adds one-time prekeys (an id already stored keeps its key); returns the count after. */
  Future<Integer> addOneTime(SqlConnection conn, UUID wid, UUID principal, List<OneTime> keys) {
    if (keys.isEmpty()) {
      return count(conn, principal);
    }
    List<Tuple> batch = new ArrayList<>();
    for (OneTime k : keys) {
      batch.add(Tuple.of(wid, principal, k.id(), Buffer.buffer(k.publicKey())));
    }
    return conn.preparedQuery(
            "INSERT INTO one_time_prekeys (workspace_id, principal_id, key_id, public_key)"
                + " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .executeBatch(batch)
        .compose(x -> count(conn, principal));
  }

  Future<Integer> count(SqlConnection conn, UUID principal) {
    return conn.preparedQuery("SELECT count(*) AS n FROM one_time_prekeys WHERE principal_id = $1")
        .execute(Tuple.of(principal))
        .map(rows -> rows.iterator().next().getLong("n").intValue());
  }

  Future<Optional<Bundle>> bundle(SqlConnection conn, UUID principal) {
    return conn.preparedQuery(
            "SELECT principal_id, principal_kind, identity_key, signed_prekey, signed_prekey_id,"
                + " signed_prekey_expires_at FROM prekey_bundles WHERE principal_id = $1")
        .execute(Tuple.of(principal))
        .map(
            rows ->
                Parties.first(
                    rows,
                    r ->
                        new Bundle(
                            r.getUUID("principal_id"),
                            r.getString("principal_kind"),
                            r.getBuffer("identity_key").getBytes(),
                            r.getBuffer("signed_prekey").getBytes(),
                            r.getLong("signed_prekey_id"),
                            r.getOffsetDateTime("signed_prekey_expires_at"))));
  }

  /**
   * How many of {@code principal}'s one-time prekeys {@code fetcher} took at or after {@code
   * since}; in the same statement forgets every take of {@code principal} before it (the takes
   * prune themselves). First takes a lock held until the transaction ends, so the fetches of one
   * fetcher for one principal count and {@link #take} one after another: without it parallel
   * fetches all counted fewer takes than the limit before any of them took. The count is sent
   * behind the lock without waiting for it (the pool pipelines), so this is still one round trip;
   * it runs after the lock is granted and sees the takes committed until then.
   */
  Future<Integer> takesSince(
      SqlConnection conn, UUID principal, UUID fetcher, OffsetDateTime since) {
    Future<Void> locked =
        conn.preparedQuery("SELECT pg_advisory_xact_lock(hashtext($1))")
            .execute(Tuple.of("prekey-takes:" + principal + ":" + fetcher))
            .mapEmpty();
    Future<Integer> counted =
        conn.preparedQuery(
                "WITH gone AS (DELETE FROM prekey_takes WHERE principal_id = $1 AND taken_at < $3)"
                    + " SELECT count(*) AS n FROM prekey_takes"
                    + " WHERE principal_id = $1 AND fetcher_id = $2 AND taken_at >= $3")
            .execute(Tuple.of(principal, fetcher, since))
            .map(rows -> rows.iterator().next().getLong("n").intValue());
    return locked.compose(v -> counted);
  }

  /**
   * Takes (deletes and returns) one one-time prekey of {@code principal} for {@code fetcher}, and
   * notes the take: concurrent takers skip the rows another transaction holds, so each key is
   * handed out once; empty when none is left.
   */
  Future<Optional<OneTime>> take(
      SqlConnection conn, UUID wid, UUID principal, UUID fetcher, OffsetDateTime now) {
    return conn.preparedQuery(
            "WITH taken AS (DELETE FROM one_time_prekeys"
                + " WHERE (workspace_id, principal_id, key_id) IN"
                + " (SELECT workspace_id, principal_id, key_id FROM one_time_prekeys"
                + " WHERE principal_id = $2 ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)"
                + " RETURNING key_id, public_key),"
                + " noted AS (INSERT INTO prekey_takes (workspace_id, principal_id, fetcher_id,"
                + " taken_at) SELECT $1, $2, $3, $4 FROM taken)"
                + " SELECT key_id, public_key FROM taken")
        .execute(Tuple.of(wid, principal, fetcher, now))
        .map(
            rows ->
                rows.size() == 0
                    ? Optional.empty()
                    : Optional.of(
                        new OneTime(
                            rows.iterator().next().getLong("key_id"),
                            rows.iterator().next().getBuffer("public_key").getBytes())));
  }
}
