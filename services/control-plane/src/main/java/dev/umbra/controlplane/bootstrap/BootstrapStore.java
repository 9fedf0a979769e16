package dev.umbra.controlplane.bootstrap;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;

/** SQL of the deployment's one bootstrap row (id 1): the token's hash and when it was used. */
final class BootstrapStore {

  /** The row as stored: the token's hash and whether it was used. */
  record Stored(byte[] tokenHash, boolean used) {}

  /** Whether the token was used; null when there is no row yet. */
  Future<Boolean> used(SqlConnection conn) {
    return conn.preparedQuery("SELECT used_at FROM bootstrap WHERE id = 1")
        .execute()
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getValue("used_at") != null);
  }

  /** Stores the configured token's hash, replacing an unused one. */
  Future<Void> configure(SqlConnection conn, byte[] tokenHash, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO bootstrap (id, token_hash, created_at) VALUES (1, $1, $2) "
                + "ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash WHERE bootstrap.used_at IS NULL")
        .execute(Tuple.of(Buffer.buffer(tokenHash), now))
        .mapEmpty();
  }

  /** Stores a generated token's hash unless a row exists; true when stored. */
  Future<Boolean> generated(SqlConnection conn, byte[] tokenHash, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO bootstrap (id, token_hash, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
        .execute(Tuple.of(Buffer.buffer(tokenHash), now))
        .map(r -> r.rowCount() == 1);
  }

  /** The row, locked for redeeming it; null when none. */
  Future<Stored> forRedeem(SqlConnection conn) {
    return conn.preparedQuery("SELECT token_hash, used_at FROM bootstrap WHERE id = 1 FOR UPDATE")
        .execute()
        .map(
            rows ->
                rows.size() == 0
                    ? null
                    : new Stored(
                        rows.iterator().next().getBuffer("token_hash").getBytes(),
                        rows.iterator().next().getValue("used_at") != null));
  }

  Future<Void> burn(SqlConnection conn, OffsetDateTime now) {
    return conn.preparedQuery("UPDATE bootstrap SET used_at = $1 WHERE id = 1")
        .execute(Tuple.of(now))
        .mapEmpty();
  }
}
