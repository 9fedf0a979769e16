package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.kit.auth.Role;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of invitations. All but {@link #usable} run on a connection whose transaction already has its
 * workspace set ({@code Tenancy.asMember}, row-level security on); {@link #usable} finds the
 * workspace by the token's hash, which row-level security lets through by itself.
 */
final class InvitationStore {

  Future<Invitation> add(
      SqlConnection conn,
      UUID wid,
      UUID id,
      byte[] tokenHash,
      String role,
      String note,
      UUID createdBy,
      OffsetDateTime now,
      OffsetDateTime expiresAt) {
    return conn.preparedQuery(
            "INSERT INTO invitations (workspace_id, id, token_hash, role, note, created_by, created_at, expires_at) "
                + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {
                  wid, id, Buffer.buffer(tokenHash), role, note, createdBy, now, expiresAt
                }))
        .map(rows -> Rows.first(rows, Invitation::of));
  }

  Future<List<Invitation>> page(SqlConnection conn, UUID after, int limit) {
    return conn.preparedQuery("SELECT * FROM invitations WHERE id > $1 ORDER BY id LIMIT $2")
        .execute(Tuple.of(after, limit))
        .map(rows -> Rows.all(rows, Invitation::of));
  }

  /** Cancels the invitation (keeping the first time); false when none. */
  Future<Boolean> cancel(SqlConnection conn, UUID wid, UUID id, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE invitations SET cancelled_at = coalesce(cancelled_at, $2) WHERE id = $1 AND workspace_id = $3")
        .execute(Tuple.of(id, now, wid))
        .map(r -> r.rowCount() > 0);
  }

  /**
   * The pending, unexpired invitation whose token hashes to {@code hashHex}, locked; null when
   * none.
   */
  Future<Invitation.Usable> usable(SqlConnection conn, String hashHex, OffsetDateTime now) {
    return conn.preparedQuery("SELECT set_config('umbra.invite_token_hash', $1, true)")
        .execute(Tuple.of(hashHex))
        .compose(
            x ->
                conn.preparedQuery(
                        "SELECT workspace_id, id, role FROM invitations WHERE token_hash = decode($1, 'hex') "
                            + "AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $2 FOR UPDATE")
                    .execute(Tuple.of(hashHex, now)))
        .map(
            rows ->
                Rows.first(
                    rows,
                    r ->
                        new Invitation.Usable(
                            r.getUUID("workspace_id"),
                            r.getUUID("id"),
                            Role.parse(r.getString("role")).orElseThrow())));
  }

  Future<Void> markAccepted(SqlConnection conn, UUID id, OffsetDateTime now, UUID memberId) {
    return conn.preparedQuery(
            "UPDATE invitations SET accepted_at = $2, accepted_member = $3 WHERE id = $1")
        .execute(Tuple.of(id, now, memberId))
        .mapEmpty();
  }

  Future<String> workspaceName(SqlConnection conn, UUID wid) {
    return conn.preparedQuery("SELECT name FROM workspaces WHERE id = $1")
        .execute(Tuple.of(wid))
        .map(rows -> rows.iterator().next().getString("name"));
  }
}
