package dev.umbra.controlplane.sharing;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.controlplane.errors.Refusal;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of team shares. Every method runs on a connection whose transaction already has its workspace
 * set: a team or resource of another workspace is not visible, and the share tables' composite
 * foreign keys refuse one all the same.
 */
public final class Shares {

  /** Whether the resource is shared with a team {@code memberId} is in. */
  public Future<Boolean> sharedWith(SqlConnection conn, ShareKind kind, UUID id, UUID memberId) {
    return conn.preparedQuery(
            "SELECT 1 FROM "
                + kind.shareTable()
                + " s JOIN team_members tm ON tm.team_id = s.team_id"
                + " WHERE s.resource_id = $1 AND tm.member_id = $2 LIMIT 1")
        .execute(Tuple.of(id, memberId))
        .map(rows -> rows.size() > 0);
  }

  /** The teams the resource is shared with, in id order. */
  public Future<List<UUID>> teams(SqlConnection conn, ShareKind kind, UUID id) {
    return conn.preparedQuery(
            "SELECT team_id FROM " + kind.shareTable() + " WHERE resource_id = $1 ORDER BY team_id")
        .execute(Tuple.of(id))
        .map(rows -> Rows.all(rows, r -> r.getUUID("team_id")));
  }

  /** The ids of {@code teamIds} that are teams of this workspace. */
  public Future<List<UUID>> existingTeams(SqlConnection conn, List<UUID> teamIds) {
    return conn.preparedQuery("SELECT id FROM teams WHERE id = ANY($1) ORDER BY id")
        .execute(Tuple.of(teamIds.toArray(UUID[]::new)))
        .map(rows -> Rows.all(rows, r -> r.getUUID("id")));
  }

  /** Succeeds when every id of {@code teamIds} is a team of this workspace; else 404 team. */
  public Future<Void> requireTeams(SqlConnection conn, List<UUID> teamIds) {
    if (teamIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return existingTeams(conn, teamIds)
        .compose(
            found ->
                found.size() == teamIds.size()
                    ? Future.succeededFuture()
                    : Future.failedFuture(Refusal.notFound("team")));
  }

  /** Shares the resource with each of {@code teamIds} (checked with {@link #requireTeams}). */
  public Future<Void> grantAll(
      SqlConnection conn,
      UUID wid,
      ShareKind kind,
      UUID id,
      List<UUID> teamIds,
      OffsetDateTime now) {
    Future<Void> f = Future.succeededFuture();
    for (UUID t : teamIds) {
      f = f.compose(v -> grant(conn, wid, kind, id, t, now));
    }
    return f;
  }

  /** The resource's author row; null when the resource does not exist (in this workspace). */
  Future<Row> author(SqlConnection conn, ShareKind kind, UUID id) {
    return conn.preparedQuery(kind.authorQuery())
        .execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  /** Shares the resource with the team (no change when already shared). */
  public Future<Void> grant(
      SqlConnection conn, UUID wid, ShareKind kind, UUID id, UUID teamId, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO "
                + kind.shareTable()
                + " (workspace_id, resource_id, team_id, created_at) VALUES ($1,$2,$3,$4)"
                + " ON CONFLICT DO NOTHING")
        .execute(Tuple.of(wid, id, teamId, now))
        .mapEmpty();
  }

  /** Removes the share; false when there was none. */
  Future<Boolean> revoke(SqlConnection conn, ShareKind kind, UUID id, UUID teamId) {
    return conn.preparedQuery(
            "DELETE FROM " + kind.shareTable() + " WHERE resource_id = $1 AND team_id = $2")
        .execute(Tuple.of(id, teamId))
        .map(r -> r.rowCount() > 0);
  }
}
