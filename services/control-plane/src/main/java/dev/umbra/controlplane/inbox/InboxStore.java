package dev.umbra.controlplane.inbox;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.controlplane.sharing.ShareKind;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of inbox items. Every method runs on a connection whose transaction already has its workspace
 * set (row-level security on).
 */
final class InboxStore {

  Future<InboxItem> insert(
      SqlConnection conn,
      UUID wid,
      UUID id,
      UUID agentId,
      InboxItem.Question q,
      OffsetDateTime deadline,
      OffsetDateTime now) {
    return insert(conn, wid, id, new Author(agentId, null, null), q, deadline, now);
  }

  /** Who raises an item: an agent, or a machine's daemon for one of its agent sessions. */
  record Author(UUID agentId, UUID machineId, String sessionId) {}

  /**
   * Inserts the item; null when an item with its id exists already (a replayed machine request: the
   * daemon chose the id and signed it).
   */
  Future<InboxItem> insert(
      SqlConnection conn,
      UUID wid,
      UUID id,
      Author author,
      InboxItem.Question q,
      OffsetDateTime deadline,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO inbox_items (workspace_id, id, agent_id, machine_id, session_id, kind,"
                + " question, options, default_answer, deadline, status, created_at)"
                + " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'open',$11)"
                + " ON CONFLICT (id) DO NOTHING RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  id,
                  author.agentId(),
                  author.machineId(),
                  author.sessionId(),
                  q.kind(),
                  q.question(),
                  new JsonArray(List.copyOf(q.options())),
                  q.defaultAnswer(),
                  deadline,
                  now
                }))
        .map(rows -> Rows.first(rows, InboxItem::of));
  }

  /** Open items past their deadline take their default; the items so expired. */
  Future<List<InboxItem>> expire(SqlConnection conn, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE inbox_items SET status = 'expired', answer = default_answer, decided_at = $1"
                + " WHERE status = 'open' AND deadline <= $1 RETURNING *")
        .execute(Tuple.of(now))
        .map(rows -> Rows.all(rows, InboxItem::of));
  }

  /** The teams machine {@code machineId} is shared with (its items are shared with them). */
  Future<List<UUID>> machineTeams(SqlConnection conn, UUID machineId) {
    return conn.preparedQuery(
            "SELECT team_id FROM machine_shares WHERE resource_id = $1 ORDER BY team_id")
        .execute(Tuple.of(machineId))
        .map(rows -> Rows.all(rows, r -> r.getUUID("team_id")));
  }

  /** The item; null when none. */
  Future<InboxItem> get(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM inbox_items WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> Rows.first(rows, InboxItem::of));
  }

  /**
   * A page of the items the actor may see (admins: all; an agent: its own; members: those shared
   * with their teams), optionally of one status.
   */
  Future<List<InboxItem>> page(
      SqlConnection conn,
      boolean admin,
      UUID agentId,
      UUID memberId,
      String status,
      UUID after,
      int limit) {
    return conn.preparedQuery(
            "SELECT i.* FROM inbox_items i WHERE i.id > $1 AND ($2 OR i.agent_id = $3 OR "
                + ShareKind.INBOX_ITEM.sharedWithMember("i", 4)
                + ") AND ($5::text IS NULL OR i.status = $5) ORDER BY i.id LIMIT $6")
        .execute(Tuple.of(after, admin, agentId, memberId, status, limit))
        .map(rows -> Rows.all(rows, InboxItem::of));
  }

  /** Decides an open item; null when it is no longer open. */
  Future<InboxItem> decide(
      SqlConnection conn, UUID id, String answer, UUID accountId, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE inbox_items SET status = 'decided', answer = $2, decided_by = $3,"
                + " decided_at = $4 WHERE id = $1 AND status = 'open' AND deadline > $4 RETURNING *")
        .execute(Tuple.of(id, answer, accountId, now))
        .map(rows -> Rows.first(rows, InboxItem::of));
  }
}
