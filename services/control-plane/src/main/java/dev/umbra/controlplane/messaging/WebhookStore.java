package dev.umbra.controlplane.messaging;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/** The SQL of members' notification webhooks (inside the workspace's transaction). */
final class WebhookStore {
  record Webhook(String url, byte[] secret, OffsetDateTime createdAt) {}

  Future<Void> put(
      SqlConnection conn, UUID wid, UUID account, String url, byte[] secret, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO member_webhooks (workspace_id, account_id, url, secret, created_at)"
                + " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, account_id)"
                + " DO UPDATE SET url = $3, secret = $4, created_at = $5")
        .execute(Tuple.of(wid, account, url, Buffer.buffer(secret), now))
        .mapEmpty();
  }

  Future<Optional<Webhook>> get(SqlConnection conn, UUID account) {
    return conn.preparedQuery(
            "SELECT url, secret, created_at FROM member_webhooks WHERE account_id = $1")
        .execute(Tuple.of(account))
        .map(
            rows ->
                rows.size() == 0
                    ? Optional.empty()
                    : Optional.of(
                        new Webhook(
                            rows.iterator().next().getString("url"),
                            rows.iterator().next().getBuffer("secret").getBytes(),
                            rows.iterator().next().getOffsetDateTime("created_at"))));
  }

  Future<Boolean> delete(SqlConnection conn, UUID account) {
    return conn.preparedQuery("DELETE FROM member_webhooks WHERE account_id = $1")
        .execute(Tuple.of(account))
        .map(r -> r.rowCount() > 0);
  }
}
