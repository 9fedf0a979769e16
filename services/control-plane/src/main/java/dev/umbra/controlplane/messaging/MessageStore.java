package dev.umbra.controlplane.messaging;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
   * One message to store: its id, conversation (and the conversation's member), sender and one copy
   * per recipient.
   */
  record Send(UUID id, UUID conversation, UUID account, Party sender, List<Copy> copies) {}

  /**
   * Claims {@code (id, recipient)} for each copy of each send and stores the copies whose claim is
   * new, in one statement (a copy whose claim existed is a resend: not stored again), in the order
   * of {@code sends} (so {@code seq} follows it); then checks, in PostgreSQL, that no other sender
   * holds one of the ids ({@code message_ids_check_senders}, migration V32): if one does, that
   * statement raises SQLSTATE {@value #TAKEN} and the transaction is aborted, so it cannot commit
   * and its {@code COMMIT} may already be queued behind these two statements. The check is its own
   * statement, so its snapshot is taken after the claim finished (waiting for a concurrent claim of
   * the same key), exactly as if it were sent after the claim's answer. Both statements are issued
   * before this returns. The ids of {@code sends} must be distinct. Answers, per message id, the
   * recipients newly claimed with their copies' {@code seq} and {@code created_at} as stored (what
   * a notice carries, so the recipient's instance pushes the copy without reading it); fails with
   * {@link MessageService.Taken} if another sender holds an id (nothing of the transaction is
   * kept).
   */
  Future<Map<UUID, Map<UUID, Inserted>>> claimAndInsert(
      SqlConnection conn, UUID wid, List<Send> sends, OffsetDateTime now) {
    int n = 0;
    for (Send s : sends) {
      n += s.copies().size();
    }
    UUID[] ids = new UUID[n];
    UUID[] recipients = new UUID[n];
    UUID[] conversations = new UUID[n];
    String[] senderKinds = new String[n];
    UUID[] senders = new UUID[n];
    String[] kinds = new String[n];
    Buffer[] cts = new Buffer[n];
    UUID[] sendIds = new UUID[sends.size()];
    UUID[] sendSenders = new UUID[sends.size()];
    int i = 0;
    for (int j = 0; j < sends.size(); j++) {
      Send s = sends.get(j);
      sendIds[j] = s.id();
      sendSenders[j] = s.sender().id();
      for (Copy c : s.copies()) {
        ids[i] = s.id();
        recipients[i] = c.recipient();
        conversations[i] = s.conversation();
        senderKinds[i] = s.sender().kind().wire();
        senders[i] = s.sender().id();
        kinds[i] = c.recipientKind();
        cts[i] = Buffer.buffer(c.ciphertext());
        i++;
      }
    }
    Future<Map<UUID, Map<UUID, Inserted>>> fresh =
        conn.preparedQuery(CLAIM_AND_INSERT)
            .execute(
                Tuple.tuple()
                    .addValue(wid)
                    .addValue(ids)
                    .addValue(recipients)
                    .addValue(conversations)
                    .addValue(senderKinds)
                    .addValue(senders)
                    .addValue(kinds)
                    .addValue(cts)
                    .addValue(now))
            .map(
                rows -> {
                  Map<UUID, Map<UUID, Inserted>> out = new HashMap<>();
                  rows.forEach(
                      r ->
                          out.computeIfAbsent(r.getUUID("id"), k -> new LinkedHashMap<>())
                              .put(
                                  r.getUUID("recipient_id"),
                                  new Inserted(
                                      r.getLong("seq"), r.getOffsetDateTime("created_at"))));
                  return out;
                });
    Future<Void> mine =
        conn.preparedQuery(CHECK_SENDERS)
            .execute(Tuple.tuple().addValue(sendIds).addValue(sendSenders))
            .<Void>mapEmpty()
            .recover(
                e ->
                    Future.failedFuture(
                        e instanceof PgException pg && TAKEN.equals(pg.getSqlState())
                            ? new MessageService.Taken()
                            : e));
    // the claim's own failure first (the check then fails only because the transaction aborted)
    return Future.join(fresh, mine)
        .transform(
            x ->
                fresh.failed()
                    ? Future.failedFuture(fresh.cause())
                    : mine.failed() ? Future.failedFuture(mine.cause()) : fresh);
  }

  /** The other-sender check (migration V32). */
  static final String CHECK_SENDERS = "SELECT message_ids_check_senders($1::uuid[], $2::uuid[])";

  /** The SQLSTATE {@code message_ids_check_senders} raises when another sender holds an id. */
  static final String TAKEN = "UM001";

  /**
   * The claim-and-store statement. Its columns are named, not {@code SELECT *}: a statement with
   * {@code *} is not kept prepared on the connection ({@code Database.keptPrepared}), and was
   * parsed again before every send, one more round trip (until 2026-12-05 18:55 UTC).
   */
  static final String CLAIM_AND_INSERT =
      "WITH u AS (SELECT u.id, u.r, u.conv, u.sk, u.sender, u.k, u.ct, u.ord"
          + " FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[],"
          + " $6::uuid[], $7::text[], $8::bytea[]) WITH ORDINALITY"
          + " AS u(id, r, conv, sk, sender, k, ct, ord)),"
          + " claimed AS (INSERT INTO message_ids"
          + " (workspace_id, id, recipient_id, sender_id, created_at)"
          + " SELECT $1, id, r, sender, $9 FROM u"
          + " ON CONFLICT DO NOTHING RETURNING id, recipient_id)"
          + " INSERT INTO messages (workspace_id, id, conversation_id, sender_kind,"
          + " sender_id, recipient_kind, recipient_id, ciphertext, created_at)"
          + " SELECT $1, u.id, u.conv, u.sk, u.sender, u.k, u.r, u.ct, $9 FROM u"
          + " JOIN claimed c ON c.id = u.id AND c.recipient_id = u.r ORDER BY u.ord"
          + " RETURNING id, recipient_id, seq, created_at";

  /** What PostgreSQL assigned a stored copy. */
  record Inserted(long seq, OffsetDateTime createdAt) {}

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

  /**
   * Deletes the recipient's copies of {@code ids}. The transaction commits without waiting for its
   * WAL flush ({@code synchronous_commit = off}, this transaction only, sent with the delete): an
   * acknowledgement lost in a database crash only brings the copies back, and clients drop a copy
   * whose id they showed (at least once, shown once); it no longer queues a flush in front of the
   * sends' commits, which must wait for theirs.
   */
  Future<Integer> ack(SqlConnection conn, UUID recipient, List<UUID> ids) {
    Future<?> lazy = conn.query("SET LOCAL synchronous_commit = off").execute();
    Future<Integer> deleted =
        conn.preparedQuery("DELETE FROM messages WHERE recipient_id = $1 AND id = ANY($2)")
            .execute(Tuple.tuple().addValue(recipient).addValue(ids.toArray(new UUID[0])))
            .map(rows -> rows.rowCount());
    return Future.all(lazy, deleted).map(x -> deleted.result());
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
