package dev.umbra.controlplane.messaging;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** The SQL of conversations and messages (inside the workspace's transaction). */
final class MessageStore {
  record Conversation(UUID id, UUID accountId, UUID agentId, OffsetDateTime createdAt) {
    JsonObject toJson() {
      return new JsonObject()
          .put("id", id.toString())
          .put("account_id", accountId.toString())
          .put("agent_id", agentId.toString())
          .put("created_at", createdAt.toString());
    }

    static Conversation of(Row r) {
      return new Conversation(
          r.getUUID("id"),
          r.getUUID("account_id"),
          r.getUUID("agent_id"),
          r.getOffsetDateTime("created_at"));
    }
  }

  /** One stored copy, as a recipient fetches it. */
  record Stored(
      long seq,
      UUID id,
      UUID conversationId,
      String senderKind,
      UUID senderId,
      byte[] ciphertext,
      OffsetDateTime createdAt) {
    JsonObject toJson() {
      return new JsonObject()
          .put("id", id.toString())
          .put("seq", seq)
          .put("conversation_id", conversationId.toString())
          .put("sender_kind", senderKind)
          .put("sender_id", senderId.toString())
          .put("ciphertext", Parties.b64(ciphertext))
          .put("created_at", createdAt.toString());
    }

    static Stored of(Row r) {
      return new Stored(
          r.getLong("seq"),
          r.getUUID("id"),
          r.getUUID("conversation_id"),
          r.getString("sender_kind"),
          r.getUUID("sender_id"),
          r.getBuffer("ciphertext").getBytes(),
          r.getOffsetDateTime("created_at"));
    }
  }

  private static final String STORED =
      "seq, id, conversation_id, sender_kind, sender_id, ciphertext, created_at";

  Future<Conversation> open(
      SqlConnection conn, UUID wid, UUID id, UUID account, UUID agent, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO conversations (workspace_id, id, account_id, agent_id, created_at)"
                + " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, account_id, agent_id)"
                + " DO NOTHING")
        .execute(Tuple.of(wid, id, account, agent, now))
        .compose(
            x ->
                conn.preparedQuery(
                        "SELECT * FROM conversations WHERE account_id = $1 AND agent_id = $2")
                    .execute(Tuple.of(account, agent)))
        .map(rows -> Conversation.of(rows.iterator().next()));
  }

  Future<Optional<Conversation>> conversation(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM conversations WHERE id = $1")
        .execute(Tuple.of(id))
        .map(
            rows ->
                rows.size() == 0
                    ? Optional.empty()
                    : Optional.of(Conversation.of(rows.iterator().next())));
  }

  Future<List<Conversation>> conversations(SqlConnection conn, Party p, UUID after, int fetch) {
    String who = p.kind() == Party.Kind.AGENT ? "agent_id" : "account_id";
    UUID id = p.kind() == Party.Kind.AGENT ? p.id() : p.accountId();
    return conn.preparedQuery(
            "SELECT * FROM conversations WHERE " + who + " = $1 AND id > $2 ORDER BY id LIMIT $3")
        .execute(Tuple.of(id, after, fetch))
        .map(
            rows -> {
              List<Conversation> out = new ArrayList<>();
              rows.forEach(r -> out.add(Conversation.of(r)));
              return out;
            });
  }

  /**
   * The conversation {@code id} with the active principals of the side that is not {@code
   * senderKind} (the approved agent, or the member's trusted devices), in one statement; empty if
   * there is no such conversation in the workspace.
   */
  Future<Optional<Target>> target(SqlConnection conn, UUID id, Party.Kind senderKind) {
    String others =
        senderKind == Party.Kind.DEVICE
            ? "ARRAY(SELECT a.id FROM agents a JOIN machines m ON m.id = a.machine_id"
                + " WHERE a.id = c.agent_id AND a.status = 'approved' AND m.revoked_at IS NULL)"
            : "ARRAY(SELECT d.id FROM devices d JOIN members mb ON mb.account_id = d.account_id"
                + " WHERE d.account_id = c.account_id AND d.status = 'trusted' ORDER BY d.id)";
    return conn.preparedQuery(
            "SELECT c.id, c.account_id, c.agent_id, c.created_at, "
                + others
                + " AS others FROM conversations c WHERE c.id = $1")
        .execute(Tuple.of(id))
        .map(
            rows ->
                Parties.first(
                    rows,
                    r -> new Target(Conversation.of(r), List.of(r.getArrayOfUUIDs("others")))));
  }

  /** A conversation and the active principals of one side (see {@link #target}). */
  record Target(Conversation conversation, List<UUID> others) {}

  /** The trusted devices of a member (an agent's recipients in a conversation). */
  Future<List<UUID>> trustedDevices(SqlConnection conn, UUID account) {
    return conn.preparedQuery(
            "SELECT d.id FROM devices d JOIN members m ON m.account_id = d.account_id"
                + " WHERE d.account_id = $1 AND d.status = 'trusted' ORDER BY d.id")
        .execute(Tuple.of(account))
        .map(
            rows -> {
              List<UUID> out = new ArrayList<>();
              rows.forEach(r -> out.add(r.getUUID("id")));
              return out;
            });
  }

  /**
   * What a claim found: the recipients newly claimed (the others were accepted before: a resend),
   * and whether another sender holds a claim on the id (then nothing may be stored).
   */
  record Claim(List<UUID> fresh, boolean takenByAnother) {}

  /**
   * Claims {@code (id, recipient)} for each copy and stores the copies whose claim is new, in one
   * statement (a copy whose claim existed is a resend: not stored again); then counts the id's
   * claims by other senders. The two statements are pipelined; the count is its own statement, so
   * its snapshot is taken after the claim finished (waiting for a concurrent claim of the same
   * key), exactly as if it were sent after the claim's answer. Answers the recipients stored; if
   * another sender holds the id, the caller must fail the transaction (nothing of it is kept).
   */
  Future<Claim> claimAndInsert(
      SqlConnection conn,
      UUID wid,
      UUID id,
      UUID conversation,
      Party sender,
      List<Copy> copies,
      OffsetDateTime now) {
    UUID[] recipients = new UUID[copies.size()];
    String[] kinds = new String[copies.size()];
    Buffer[] cts = new Buffer[copies.size()];
    for (int i = 0; i < copies.size(); i++) {
      recipients[i] = copies.get(i).recipient();
      kinds[i] = copies.get(i).recipientKind();
      cts[i] = Buffer.buffer(copies.get(i).ciphertext());
    }
    Future<List<UUID>> fresh =
        conn.preparedQuery(
                "WITH claimed AS (INSERT INTO message_ids"
                    + " (workspace_id, id, recipient_id, sender_id, created_at)"
                    + " SELECT $1, $2, r, $4, $5 FROM unnest($6::uuid[]) AS r"
                    + " ON CONFLICT DO NOTHING RETURNING recipient_id)"
                    + " INSERT INTO messages (workspace_id, id, conversation_id, sender_kind,"
                    + " sender_id, recipient_kind, recipient_id, ciphertext, created_at)"
                    + " SELECT $1, $2, $3, $7, $4, k, c.recipient_id, ct, $5 FROM claimed c"
                    + " JOIN unnest($6::uuid[], $8::text[], $9::bytea[]) AS u(r, k, ct)"
                    + " ON u.r = c.recipient_id RETURNING recipient_id")
            .execute(
                Tuple.tuple()
                    .addValue(wid)
                    .addValue(id)
                    .addValue(conversation)
                    .addValue(sender.id())
                    .addValue(now)
                    .addValue(recipients)
                    .addValue(sender.kind().wire())
                    .addValue(kinds)
                    .addValue(cts))
            .map(
                rows -> {
                  List<UUID> out = new ArrayList<>();
                  rows.forEach(r -> out.add(r.getUUID("recipient_id")));
                  return out;
                });
    Future<Boolean> others = claimedByOthers(conn, id, sender.id());
    return Future.all(fresh, others).map(x -> new Claim(fresh.result(), others.result()));
  }

  private static Future<Boolean> claimedByOthers(SqlConnection conn, UUID id, UUID sender) {
    return conn.preparedQuery(
            "SELECT count(*) AS n FROM message_ids WHERE id = $1 AND sender_id <> $2")
        .execute(Tuple.of(id, sender))
        .map(rows -> rows.iterator().next().getLong("n") > 0);
  }

  /** One copy to store. */
  record Copy(UUID recipient, String recipientKind, byte[] ciphertext) {}

  Future<List<Stored>> pending(SqlConnection conn, UUID recipient, long afterSeq, int fetch) {
    return conn.preparedQuery(
            "SELECT "
                + STORED
                + " FROM messages WHERE recipient_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
        .execute(Tuple.of(recipient, afterSeq, fetch))
        .map(
            rows -> {
              List<Stored> out = new ArrayList<>();
              rows.forEach(r -> out.add(Stored.of(r)));
              return out;
            });
  }

  /** The recipient's copies among {@code ids} (those not acknowledged yet), by id. */
  Future<Map<UUID, Stored>> some(SqlConnection conn, List<UUID> ids, UUID recipient) {
    return conn.preparedQuery(
            "SELECT " + STORED + " FROM messages WHERE id = ANY($1) AND recipient_id = $2")
        .execute(Tuple.tuple().addValue(ids.toArray(new UUID[0])).addValue(recipient))
        .map(
            rows -> {
              Map<UUID, Stored> out = new HashMap<>();
              rows.forEach(r -> out.put(r.getUUID("id"), Stored.of(r)));
              return out;
            });
  }

  Future<Integer> ack(SqlConnection conn, UUID recipient, List<UUID> ids) {
    return conn.preparedQuery("DELETE FROM messages WHERE recipient_id = $1 AND id = ANY($2)")
        .execute(Tuple.tuple().addValue(recipient).addValue(ids.toArray(new UUID[0])))
        .map(rows -> rows.rowCount());
  }

  /** Deletes what is older than {@code before} in the workspace; returns the copies deleted. */
  Future<Integer> sweep(SqlConnection conn, OffsetDateTime before) {
    return conn.preparedQuery("DELETE FROM messages WHERE created_at < $1")
        .execute(Tuple.of(before))
        .compose(
            m ->
                conn.preparedQuery("DELETE FROM message_ids WHERE created_at < $1")
                    .execute(Tuple.of(before))
                    .map(x -> m.rowCount()));
  }
}
