package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.kit.auth.Role;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;

/**
 * SQL of workspaces and their members. Unless a method says otherwise, it runs on a connection
 * whose transaction already has its workspace set ({@code Tenancy.asMember}, row-level security
 * on).
 */
final class WorkspaceStore {
  private static final String MEMBER_SELECT =
      "SELECT m.id, m.account_id, a.name, m.role, m.created_at FROM members m JOIN accounts a ON a.id = m.account_id ";

  /** A device's binding state as a session token needs it. */
  record DeviceBinding(UUID accountId, String status, Integer keysetVersion) {}

  /** The account's name (no workspace needed). */
  Future<String> accountName(SqlConnection conn, UUID accountId) {
    return conn.preparedQuery("SELECT name FROM accounts WHERE id = $1")
        .execute(Tuple.of(accountId))
        .map(rows -> rows.iterator().next().getString("name"));
  }

  /**
   * The account's workspaces after {@code after}, by id (no workspace set: the account is set
   * instead).
   */
  Future<List<Workspace>> workspacesOf(SqlConnection conn, UUID accountId, UUID after, int limit) {
    return conn.preparedQuery("SELECT set_config('umbra.account_id', $1, true)")
        .execute(Tuple.of(accountId.toString()))
        .compose(
            x ->
                conn.preparedQuery(
                        "SELECT w.id, w.name, w.created_at FROM account_workspaces a JOIN workspaces w ON w.id = a.workspace_id "
                            + "WHERE a.account_id = $1 AND w.id > $2 ORDER BY w.id LIMIT $3")
                    .execute(Tuple.of(accountId, after, limit)))
        .map(rows -> Rows.all(rows, Workspace::of));
  }

  Future<Workspace> workspace(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT id, name, created_at FROM workspaces WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> Workspace.of(rows.iterator().next()));
  }

  Future<Void> rename(SqlConnection conn, UUID id, String name) {
    return conn.preparedQuery("UPDATE workspaces SET name = $2 WHERE id = $1")
        .execute(Tuple.of(id, name))
        .mapEmpty();
  }

  Future<List<Member>> members(SqlConnection conn, UUID after, int limit) {
    return conn.preparedQuery(MEMBER_SELECT + "WHERE m.id > $1 ORDER BY m.id LIMIT $2")
        .execute(Tuple.of(after, limit))
        .map(rows -> Rows.all(rows, Member::of));
  }

  /** The member, its row locked until the transaction ends; null when none. */
  Future<Member> lockMember(SqlConnection conn, UUID id) {
    return conn.preparedQuery(MEMBER_SELECT + "WHERE m.id = $1 FOR UPDATE OF m")
        .execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : Member.of(rows.iterator().next()));
  }

  Future<Member> member(SqlConnection conn, UUID id) {
    return conn.preparedQuery(MEMBER_SELECT + "WHERE m.id = $1")
        .execute(Tuple.of(id))
        .map(rows -> Member.of(rows.iterator().next()));
  }

  Future<Long> owners(SqlConnection conn) {
    return conn.preparedQuery("SELECT count(*) AS n FROM members WHERE role = 'owner'")
        .execute()
        .map(rows -> rows.iterator().next().getLong("n"));
  }

  Future<Void> setRole(SqlConnection conn, UUID memberId, Role role) {
    return conn.preparedQuery("UPDATE members SET role = $2 WHERE id = $1")
        .execute(Tuple.of(memberId, role.wire()))
        .mapEmpty();
  }

  /** Removes the member and the account's link to the workspace. */
  Future<Void> remove(SqlConnection conn, UUID wid, Member m) {
    return conn.preparedQuery(
            "DELETE FROM account_workspaces WHERE account_id = $1 AND workspace_id = $2")
        .execute(Tuple.of(m.accountId(), wid))
        .compose(
            v -> conn.preparedQuery("DELETE FROM members WHERE id = $1").execute(Tuple.of(m.id())))
        .mapEmpty();
  }

  /** The device's binding state; null when none. */
  Future<DeviceBinding> device(SqlConnection conn, UUID deviceId) {
    return conn.preparedQuery(
            "SELECT account_id, status, keyset_version FROM devices WHERE id = $1")
        .execute(Tuple.of(deviceId))
        .map(
            rows -> {
              if (rows.size() == 0) {
                return null;
              }
              Row r = rows.iterator().next();
              return new DeviceBinding(
                  r.getUUID("account_id"), r.getString("status"), r.getInteger("keyset_version"));
            });
  }
}
