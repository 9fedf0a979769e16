package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.notify.AuditOutbox;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
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
  /**
   * The bounds on unacknowledged copies (docs/messaging.md, "Limits"): waiting for one recipient,
   * and sent by one sender (device or agent) and still waiting.
   */
  record Quotas(int perRecipient, int perSender) {
    Quotas {
      if (perRecipient < 1 || perSender < 1) {
        throw new IllegalArgumentException("pending quotas are at least 1");
      }
    }
  }

  private final Quotas quotas;

  MessageStore(Quotas quotas) {
    this.quotas = quotas;
  }

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
   * One send to check and store: its id, conversation, sender (as its token claims it: PostgreSQL
   * checks it is still active) and copies (recipient to ciphertext, in the order they came).
   */
  record Attempt(UUID id, UUID conversation, Party sender, Map<UUID, byte[]> copies) {}

  /** Why {@code message_send} refused a send (its codes, migrations V33 and V37). */
  enum Refused {
    PRINCIPAL_NOT_ACTIVE("principal_not_active"),
    NO_CONVERSATION("conversation"),
    NOT_A_PARTY("not_a_party"),
    RECIPIENT_PENDING_FULL("recipient_pending_full"),
    SENDER_PENDING_FULL("sender_pending_full");

    private final String code;

    Refused(String code) {
      this.code = code;
    }

    /** The refusal of {@code code}; null for null (stored); fails on any other code. */
    static Refused of(String code) {
      if (code == null) {
        return null;
      }
      for (Refused r : values()) {
        if (r.code.equals(code)) {
          return r;
        }
      }
      throw new IllegalStateException("unknown refusal code from message_send: " + code);
    }
  }

  /**
   * What {@code message_send} answered for one send: its refusal (null: accepted), the sending
   * agent's machine, the conversation's member, the first copy's recipient that is not a party
   * ({@link Refused#NOT_A_PARTY}), the recipients newly stored (in {@code seq} order) with their
   * copies' {@code seq} (in step) and the copies' {@code created_at} as stored — what a notice
   * carries, so the recipient's instance pushes a copy without reading it.
   */
  record Outcome(
      Refused refused,
      UUID machine,
      UUID account,
      UUID stranger,
      List<UUID> fresh,
      List<Long> seqs,
      OffsetDateTime storedAt) {}

  /**
   * Checks and stores {@code attempts} (distinct ids) in one statement, {@code message_send}
   * (migrations V33, V37): each send refused by its checks (or over a {@link Quotas quota}) stores
   * nothing, the others claim {@code (id, recipient)} per copy and store the copies whose claim is
   * new (a copy whose claim existed is a resend), in the order of {@code attempts} (so {@code seq}
   * follows it); then PostgreSQL checks that no other sender holds an accepted send's id and, if
   * one does, raises SQLSTATE {@value #TAKEN}, which aborts the transaction (it cannot commit, so
   * its {@code COMMIT} may already be queued behind this statement). The statement is issued before
   * this returns. Answers one outcome per attempt, in order; fails with {@link
   * MessageService.Taken} if another sender holds an id.
   */
  Future<List<Outcome>> send(
      SqlConnection conn, UUID wid, List<Attempt> attempts, OffsetDateTime now) {
    return outcomes(
        conn.preparedQuery(SEND).execute(sendArgs(wid, attempts, now)), attempts.size());
  }

  /**
   * As {@link #send}, with the sends' audit rows ({@link AuditOutbox#addInsertArgs}), as one
   * statement that is its own transaction ({@code message_send_committing}, migration V42: the
   * workspace setting, the send, the audit rows; {@link Database#ownTransaction}): when it answers,
   * what it stored is committed. For sends whose transaction has nothing to add after the send's
   * answer (no webhook signal: no agent sends).
   */
  Future<List<Outcome>> sendCommitting(
      Database db,
      UUID wid,
      List<Attempt> attempts,
      OffsetDateTime now,
      List<AuditOutbox.Entry> audits) {
    Tuple args = sendArgs(wid, attempts, now);
    AuditOutbox.addInsertArgs(args, audits);
    return outcomes(db.ownTransaction(SEND_COMMITTING, args), attempts.size());
  }

  /**
   * The send statement's arguments ({@link #SEND}, the first twelve of {@link #SEND_COMMITTING}).
   */
  private Tuple sendArgs(UUID wid, List<Attempt> attempts, OffsetDateTime now) {
    int n = 0;
    for (Attempt a : attempts) {
      n += a.copies().size();
    }
    int m = attempts.size();
    UUID[] ids = new UUID[m];
    UUID[] conversations = new UUID[m];
    String[] kinds = new String[m];
    UUID[] senders = new UUID[m];
    UUID[] accounts = new UUID[m];
    Long[] copySends = new Long[n];
    UUID[] recipients = new UUID[n];
    Buffer[] cts = new Buffer[n];
    int i = 0;
    for (int j = 0; j < m; j++) {
      Attempt a = attempts.get(j);
      ids[j] = a.id();
      conversations[j] = a.conversation();
      kinds[j] = a.sender().kind().wire();
      senders[j] = a.sender().id();
      accounts[j] = a.sender().accountId();
      for (Map.Entry<UUID, byte[]> c : a.copies().entrySet()) {
        copySends[i] = j + 1L; // the send's ordinality in the statement
        recipients[i] = c.getKey();
        cts[i] = Buffer.buffer(c.getValue());
        i++;
      }
    }
    return Tuple.tuple()
        .addValue(wid)
        .addValue(ids)
        .addValue(conversations)
        .addValue(kinds)
        .addValue(senders)
        .addValue(accounts)
        .addValue(copySends)
        .addValue(recipients)
        .addValue(cts)
        .addValue(now)
        .addValue(quotas.perRecipient())
        .addValue(quotas.perSender());
  }

  /**
   * The outcomes of {@code m} sends from the statement's answer; fails with {@link
   * MessageService.Taken} if another sender holds an id.
   */
  private static Future<List<Outcome>> outcomes(Future<RowSet<Row>> answer, int m) {
    return answer
        .recover(
            e ->
                Future.failedFuture(
                    e instanceof PgException pg && TAKEN.equals(pg.getSqlState())
                        ? new MessageService.Taken()
                        : e))
        .map(
            rows -> {
              List<Outcome> out = new ArrayList<>(m);
              rows.forEach(
                  r ->
                      out.add(
                          new Outcome(
                              Refused.of(r.getString("refused")),
                              r.getUUID("machine"),
                              r.getUUID("account"),
                              r.getUUID("stranger"),
                              List.of(r.getArrayOfUUIDs("fresh")),
                              List.of(r.getArrayOfLongs("fresh_seqs")),
                              r.getOffsetDateTime("stored_at"))));
              if (out.size() != m) {
                throw new IllegalStateException("message_send answered " + out.size() + " rows");
              }
              return out;
            });
  }

  /** The SQLSTATE {@code message_ids_check_senders} raises when another sender holds an id. */
  static final String TAKEN = "UM001";

  /**
   * The send statement. Its columns are named, not {@code *}: a statement with {@code *} is not
   * kept prepared on the connection ({@code Database.keptPrepared}) and is parsed again before
   * every send, one more round trip.
   */
  static final String SEND =
      "SELECT refused, machine, account, stranger, fresh, fresh_seqs, stored_at"
          + " FROM message_send($1::uuid,"
          + " $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::bigint[],"
          + " $8::uuid[], $9::bytea[], $10::timestamptz, $11::int, $12::int)";

  /** {@link #SEND} with the audit rows, as its own transaction (V42; named columns, as SEND). */
  static final String SEND_COMMITTING =
      "SELECT refused, machine, account, stranger, fresh, fresh_seqs, stored_at"
          + " FROM message_send_committing($1::uuid,"
          + " $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::bigint[],"
          + " $8::uuid[], $9::bytea[], $10::timestamptz, $11::int, $12::int,"
          + " $13::uuid[], $14::text[], $15::bytea[], $16::uuid[])";

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
   * What an acknowledgement did: the party (an agent's machine as PostgreSQL found it), copies
   * deleted.
   */
  record Acked(Party party, int deleted) {}

  /** The SQLSTATE {@code message_ack} raises when the recipient is no longer active. */
  static final String NOT_ACTIVE = "UM002";

  /** The acknowledgement statement (named columns: kept prepared, as {@link #SEND}). */
  static final String ACK =
      "SELECT deleted, machine FROM message_ack($1::text, $2::uuid, $3::uuid, $4::uuid[])";

  /**
   * Deletes the copies of {@code ids} held for the party {@code claims} claims in {@code wid}, in
   * one round trip: {@code BEGIN}, the workspace setting, one call of {@code message_ack}
   * (migration V35: the recipient still active, else SQLSTATE {@value #NOT_ACTIVE} and nothing
   * deleted; only the recipient's own copies; {@code synchronous_commit = off} for this
   * transaction: an acknowledgement lost in a database crash only brings the copies back, and
   * clients drop a copy whose id they showed) and {@code COMMIT}, sent together. Fails with the
   * token's refusal before anything is sent, or with {@link MessagingAuth#notActive} when
   * PostgreSQL refused.
   */
  static Future<Acked> ack(Database db, UUID wid, SessionClaims claims, List<UUID> ids) {
    Party claimed;
    try {
      claimed = MessagingAuth.claimed(wid, claims);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Tuple args =
        Tuple.tuple()
            .addValue(claimed.kind().wire())
            .addValue(claimed.id())
            .addValue(claimed.accountId())
            .addValue(ids.toArray(new UUID[0]));
    return db.inWorkspaceCommittingEarly(
        wid,
        (conn, commit) -> {
          Future<Acked> done =
              conn.preparedQuery(ACK)
                  .execute(args)
                  .map(
                      rows -> {
                        Row r = rows.iterator().next();
                        return new Acked(
                            new Party(
                                wid,
                                claimed.kind(),
                                claimed.id(),
                                claimed.accountId(),
                                r.getUUID("machine")),
                            r.getInteger("deleted"));
                      })
                  .recover(
                      e ->
                          Future.failedFuture(
                              e instanceof PgException pg && NOT_ACTIVE.equals(pg.getSqlState())
                                  ? MessagingAuth.notActive(claimed.kind())
                                  : e));
          commit.now();
          return done;
        });
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
