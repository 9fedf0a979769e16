package dev.umbra.controlplane.messaging;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The SQL of pending notification webhook deliveries (table {@code webhook_deliveries}, migration
 * V26; docs/messaging.md, "Notifications"). Ids, an attempt count and times only; every statement
 * but {@link #dueWorkspaces} runs inside the workspace's own transaction.
 */
final class WebhookDeliveries {
  /** Pending deliveries kept per member; a signal beyond takes an older one's place. */
  static final int MAX_PER_MEMBER = 100;

  /** What {@link #enqueue} did. */
  enum Enqueued {
    /** The member has no webhook (or is no member): nothing to send. */
    NONE,
    QUEUED,
    /** At the cap: the signal took the place of an older pending one. */
    COALESCED
  }

  /** A claimed delivery and what sending it needs; {@code url} is null when it is to be dropped. */
  record Claimed(
      long id,
      int attempt,
      UUID conversation,
      UUID message,
      String url,
      byte[] secret,
      String sender) {}

  /**
   * Queues the signal that {@code agent} sent {@code message} to {@code account}, in the
   * transaction that stored the message. The member's webhook row is locked first, so concurrent
   * sends to one member count and coalesce one after the other and the cap holds exactly.
   */
  Future<Enqueued> enqueue(
      SqlConnection conn,
      UUID wid,
      UUID account,
      UUID agent,
      UUID conversation,
      UUID message,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "SELECT w.account_id FROM member_webhooks w JOIN members m"
                + " ON m.workspace_id = w.workspace_id AND m.account_id = w.account_id"
                + " WHERE w.account_id = $1 FOR NO KEY UPDATE OF w")
        .execute(Tuple.of(account))
        .compose(
            hooks ->
                hooks.size() == 0
                    ? Future.succeededFuture(Enqueued.NONE)
                    : makeRoom(conn, account, conversation)
                        .compose(
                            coalesced ->
                                conn.preparedQuery(
                                        "INSERT INTO webhook_deliveries (workspace_id, account_id,"
                                            + " conversation_id, agent_id, message_id, attempts,"
                                            + " due_at, created_at)"
                                            + " VALUES ($1, $2, $3, $4, $5, 0, $6, $6)"
                                            + " ON CONFLICT DO NOTHING")
                                    .execute(
                                        Tuple.of(wid, account, conversation, agent, message, now))
                                    .map(coalesced ? Enqueued.COALESCED : Enqueued.QUEUED)));
  }

  /**
   * At the cap, deletes the member's oldest pending delivery of {@code conversation} (the newer
   * message id signals the same thing: look at this conversation), else the member's oldest.
   */
  private Future<Boolean> makeRoom(SqlConnection conn, UUID account, UUID conversation) {
    return conn.preparedQuery("SELECT count(*) AS n FROM webhook_deliveries WHERE account_id = $1")
        .execute(Tuple.of(account))
        .compose(
            rows ->
                rows.iterator().next().getLong("n") < MAX_PER_MEMBER
                    ? Future.succeededFuture(false)
                    : conn.preparedQuery(
                            "DELETE FROM webhook_deliveries WHERE id = (SELECT id FROM"
                                + " webhook_deliveries WHERE account_id = $1"
                                + " ORDER BY (conversation_id = $2) DESC, created_at, id LIMIT 1)")
                        .execute(Tuple.of(account, conversation))
                        .map(true));
  }

  /** Workspaces with a delivery due by {@code now} (the one cross-workspace read, V26). */
  Future<List<UUID>> dueWorkspaces(SqlConnection conn, OffsetDateTime now, int max) {
    return conn.preparedQuery("SELECT workspace_id FROM webhook_due_workspaces($1, $2)")
        .execute(Tuple.of(now, max))
        .map(
            rows -> {
              List<UUID> out = new ArrayList<>();
              rows.forEach(r -> out.add(r.getUUID("workspace_id")));
              return out;
            });
  }

  /**
   * Claims up to {@code max} due deliveries that have attempts left: each gets its attempt number
   * and is hidden from every sweep until {@code leaseEnd} (rows another transaction is claiming are
   * skipped, so two instances never claim the same one). Returned with the member's current webhook
   * and the agent's name; {@code url} null when the account is no longer a member.
   */
  Future<List<Claimed>> claim(
      SqlConnection conn, OffsetDateTime now, OffsetDateTime leaseEnd, int max) {
    return conn.preparedQuery(
            "WITH c AS (UPDATE webhook_deliveries d SET attempts = d.attempts + 1, due_at = $2"
                + " FROM (SELECT id FROM webhook_deliveries WHERE due_at <= $1 AND attempts < $4"
                + " ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due WHERE d.id = due.id"
                + " RETURNING d.*)"
                + " SELECT c.id, c.attempts, c.conversation_id, c.message_id,"
                + " CASE WHEN m.id IS NULL THEN NULL ELSE w.url END AS url, w.secret, a.name"
                + " FROM c JOIN member_webhooks w"
                + " ON w.workspace_id = c.workspace_id AND w.account_id = c.account_id"
                + " JOIN agents a ON a.id = c.agent_id"
                + " LEFT JOIN members m"
                + " ON m.workspace_id = c.workspace_id AND m.account_id = c.account_id")
        .execute(Tuple.of(now, leaseEnd, max, Notifier.ATTEMPTS))
        .map(
            rows -> {
              List<Claimed> out = new ArrayList<>();
              rows.forEach(r -> out.add(claimed(r)));
              return out;
            });
  }

  private static Claimed claimed(Row r) {
    return new Claimed(
        r.getLong("id"),
        r.getInteger("attempts"),
        r.getUUID("conversation_id"),
        r.getUUID("message_id"),
        r.getString("url"),
        r.getBuffer("secret").getBytes(),
        r.getString("name"));
  }

  /**
   * Deletes due deliveries with no attempt left (the instance making the last one stopped before
   * recording it); returns how many.
   */
  Future<Integer> expire(SqlConnection conn, OffsetDateTime now) {
    return conn.preparedQuery(
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries"
                + " WHERE due_at <= $1 AND attempts >= $2 FOR UPDATE SKIP LOCKED)")
        .execute(Tuple.of(now, Notifier.ATTEMPTS))
        .map(r -> r.rowCount());
  }

  /**
   * Delivered: deletes the delivery, whoever holds its claim now (the signal reached the member).
   */
  Future<Void> delete(SqlConnection conn, long id) {
    return conn.preparedQuery("DELETE FROM webhook_deliveries WHERE id = $1")
        .execute(Tuple.of(id))
        .mapEmpty();
  }

  /**
   * Done with a delivery whose {@code attempt} failed for good (refused, dropped, out of attempts):
   * deletes it if that attempt still holds the claim; false if another instance took it over after
   * the lease ended (its attempt, not this one, decides what becomes of the delivery).
   */
  Future<Boolean> delete(SqlConnection conn, long id, int attempt) {
    return conn.preparedQuery("DELETE FROM webhook_deliveries WHERE id = $1 AND attempts = $2")
        .execute(Tuple.of(id, attempt))
        .map(r -> r.rowCount() == 1);
  }

  /**
   * Schedules the next attempt after a failed {@code attempt}, if that attempt still holds the
   * claim: a late answer must not move the due time of a claim another instance took over (that
   * would end its lease early, and a third sweep could send while it still is).
   */
  Future<Boolean> retryAt(SqlConnection conn, long id, int attempt, OffsetDateTime due) {
    return conn.preparedQuery(
            "UPDATE webhook_deliveries SET due_at = $3 WHERE id = $1 AND attempts = $2")
        .execute(Tuple.of(id, attempt, due))
        .map(r -> r.rowCount() == 1);
  }
}
