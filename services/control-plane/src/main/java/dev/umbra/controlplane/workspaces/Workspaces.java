package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.http.Ids;
import dev.umbra.kit.auth.Role;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.UUID;

/** Creating accounts, workspaces and memberships inside a caller's transaction. */
public final class Workspaces {
  private Workspaces() {}

  public static Future<Void> createAccount(
      SqlConnection conn, UUID id, String name, OffsetDateTime now) {
    return conn.preparedQuery("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
        .execute(Tuple.of(id, name, now))
        .mapEmpty();
  }

  /**
   * Creates a workspace with {@code accountId} as its first member; leaves the transaction in it.
   */
  public static Future<Workspace.Created> create(
      SqlConnection conn,
      Ids ids,
      UUID workspaceId,
      String name,
      UUID accountId,
      Role role,
      OffsetDateTime now) {
    return conn.preparedQuery("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
        .execute(Tuple.of(workspaceId, name, now))
        .compose(r -> Tenancy.enter(conn, workspaceId))
        .compose(v -> addMember(conn, ids.next(), workspaceId, accountId, role, now))
        .map(m -> new Workspace.Created(new Workspace(workspaceId, name, now), role));
  }

  /** Adds a member (the transaction must be in {@code workspaceId}). */
  public static Future<UUID> addMember(
      SqlConnection conn,
      UUID memberId,
      UUID workspaceId,
      UUID accountId,
      Role role,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO members (workspace_id, id, account_id, role, created_at) VALUES ($1, $2, $3, $4, $5)")
        .execute(Tuple.of(workspaceId, memberId, accountId, role.wire(), now))
        .compose(
            r ->
                conn.preparedQuery(
                        "INSERT INTO account_workspaces (workspace_id, account_id) VALUES ($1, $2)")
                    .execute(Tuple.of(workspaceId, accountId)))
        .map(memberId);
  }
}
