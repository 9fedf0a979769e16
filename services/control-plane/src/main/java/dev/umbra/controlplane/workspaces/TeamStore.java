package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.db.Rows;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of teams and their members. Every method runs on a connection whose transaction already has
 * its workspace set ({@code Tenancy.asMember}, row-level security on).
 */
final class TeamStore {

  /** Stores a team; null when one of that name exists. */
  Future<Team> add(SqlConnection conn, UUID wid, UUID id, String name, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO teams (workspace_id, id, name, created_at) VALUES ($1,$2,$3,$4) "
                + "ON CONFLICT (workspace_id, name) DO NOTHING RETURNING *")
        .execute(Tuple.of(wid, id, name, now))
        .map(rows -> Rows.first(rows, Team::of));
  }

  Future<List<Team>> page(SqlConnection conn, UUID after, int limit) {
    return conn.preparedQuery("SELECT * FROM teams WHERE id > $1 ORDER BY id LIMIT $2")
        .execute(Tuple.of(after, limit))
        .map(rows -> Rows.all(rows, Team::of));
  }

  /** The team; null when none. */
  Future<Team> get(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM teams WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> Rows.first(rows, Team::of));
  }

  Future<List<UUID>> memberIds(SqlConnection conn, UUID teamId) {
    return conn.preparedQuery(
            "SELECT member_id FROM team_members WHERE team_id = $1 ORDER BY member_id")
        .execute(Tuple.of(teamId))
        .map(rows -> Rows.all(rows, r -> r.getUUID("member_id")));
  }

  /** Deletes the team; false when none. */
  Future<Boolean> delete(SqlConnection conn, UUID id) {
    return conn.preparedQuery("DELETE FROM teams WHERE id = $1")
        .execute(Tuple.of(id))
        .map(r -> r.rowCount() > 0);
  }

  Future<Boolean> memberExists(SqlConnection conn, UUID memberId) {
    return conn.preparedQuery("SELECT id FROM members WHERE id = $1")
        .execute(Tuple.of(memberId))
        .map(rows -> rows.size() > 0);
  }

  /** Adds the member to the team (no change when already in it). */
  Future<Void> addMember(SqlConnection conn, UUID wid, UUID teamId, UUID memberId) {
    return conn.preparedQuery(
            "INSERT INTO team_members (workspace_id, team_id, member_id) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING")
        .execute(Tuple.of(wid, teamId, memberId))
        .mapEmpty();
  }

  /** Removes the member from the team; false when not in it. */
  Future<Boolean> removeMember(SqlConnection conn, UUID teamId, UUID memberId) {
    return conn.preparedQuery("DELETE FROM team_members WHERE team_id = $1 AND member_id = $2")
        .execute(Tuple.of(teamId, memberId))
        .map(r -> r.rowCount() > 0);
  }
}
