package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditOutbox;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Conversation and message rules (docs/messaging.md): a conversation is one member and one agent; a
 * message is one copy per recipient device or agent of the other side, stored as the sender's
 * ciphertext; a resend of an id is a no-op; a recipient acknowledges its own copies.
 */
final class MessageService {
  private final MessageStore store;
  private final Ids ids;
  private final Clock clock;
  private final Map<Refusal.Full.Reason, Counter> full = new EnumMap<>(Refusal.Full.Reason.class);

  MessageService(MessageStore store, Ids ids, Clock clock, MeterRegistry registry) {
    this.store = store;
    this.ids = ids;
    this.clock = clock;
    for (Refusal.Full.Reason r : Refusal.Full.Reason.values()) {
      full.put(
          r,
          Counter.builder(Metrics.name("control-plane", "message_sends_refused_full"))
              .tag("reason", r.wire())
              .register(registry));
    }
  }

  /** A recipient principal of a conversation's other side. */
  record Recipient(Party.Kind kind, UUID id) {}

  /**
   * What a send stored: the recipients newly stored, how many copies were resends, bytes, and the
   * stored copies by recipient (for the notices that carry them).
   */
  record Sent(
      UUID id,
      List<UUID> stored,
      int duplicates,
      long bytes,
      UUID account,
      Map<UUID, MessageStore.Stored> copies) {}

  Future<MessageStore.Conversation> open(SqlConnection conn, Party p, UUID peer) {
    OffsetDateTime now = now();
    if (p.kind() == Party.Kind.DEVICE) {
      return Parties.active(conn, Party.Kind.AGENT, peer)
          .compose(
              ok ->
                  ok
                      ? store.open(conn, p.workspaceId(), ids.next(), p.accountId(), peer, now)
                      : Future.failedFuture(Refusal.notFound("agent")));
    }
    return Tenancy.membership(conn, p.workspaceId(), peer)
        .compose(
            m ->
                m != null
                    ? store.open(conn, p.workspaceId(), ids.next(), peer, p.id(), now)
                    : Future.failedFuture(Refusal.notFound("member")));
  }

  Future<List<MessageStore.Conversation>> conversations(
      SqlConnection conn, Party p, UUID after, int fetch) {
    return store.conversations(conn, p, after, fetch);
  }

  /** The conversation if {@code p} is one of its two sides (else not found: no probing). */
  Future<MessageStore.Conversation> mine(SqlConnection conn, Party p, UUID conversation) {
    return store
        .conversation(conn, conversation)
        .map(o -> o.filter(c -> isSide(p, c)).orElseThrow(() -> Refusal.notFound("conversation")));
  }

  /** The active principals of the conversation's other side: the ones to encrypt a copy for. */
  Future<List<Recipient>> recipients(SqlConnection conn, Party p, UUID conversation) {
    return mine(conn, p, conversation).compose(c -> recipientsOf(conn, p, c));
  }

  private Future<List<Recipient>> recipientsOf(
      SqlConnection conn, Party p, MessageStore.Conversation c) {
    if (p.kind() == Party.Kind.DEVICE) {
      return Parties.active(conn, Party.Kind.AGENT, c.agentId())
          .map(
              ok ->
                  ok
                      ? List.of(new Recipient(Party.Kind.AGENT, c.agentId()))
                      : List.<Recipient>of());
    }
    return store
        .trustedDevices(conn, c.accountId())
        .map(
            ds -> {
              List<Recipient> out = new ArrayList<>();
              ds.forEach(d -> out.add(new Recipient(Party.Kind.DEVICE, d)));
              return out;
            });
  }

  /** A stored send: its sender as PostgreSQL found it active, and what it stored. */
  record Stored(Party party, Sent sent) {}

  /**
   * Checks and stores {@code attempts} (distinct ids) in this transaction, in their order, in one
   * statement ({@link MessageStore#send}): a send is stored only if its sender is still active, its
   * conversation one of the sender's and every copy for an active principal of the conversation's
   * other side; otherwise it stores nothing and gets its refusal. The statement is issued before
   * this returns (the caller may queue the {@code COMMIT} right behind it). Answers each send's
   * outcome, in the same order; fails with a {@link Taken} if another sender holds an accepted
   * send's id (PostgreSQL has then aborted the transaction: nothing of it is kept). The copies and
   * claims stored carry {@code stamp} ({@link #now}).
   */
  Future<List<AsyncResult<Stored>>> send(
      SqlConnection conn, UUID wid, List<MessageStore.Attempt> attempts, OffsetDateTime stamp) {
    return outcomes(store.send(conn, wid, attempts, stamp), attempts);
  }

  /**
   * As {@link #send}, with the sends' audit rows, as one statement that is its own transaction
   * ({@link MessageStore#sendCommitting}): when the answer comes, what was stored is committed. For
   * sends with nothing to add to their transaction after the send (no agent sends: no webhook
   * signal). Fails as a whole (nothing kept) like the transaction of {@link #send}.
   */
  Future<List<AsyncResult<Stored>>> sendCommitting(
      Database db,
      UUID wid,
      List<MessageStore.Attempt> attempts,
      OffsetDateTime stamp,
      List<AuditOutbox.Entry> audits) {
    return outcomes(store.sendCommitting(db, wid, attempts, stamp, audits), attempts);
  }

  private Future<List<AsyncResult<Stored>>> outcomes(
      Future<List<MessageStore.Outcome>> answer, List<MessageStore.Attempt> attempts) {
    return answer.map(
        outcomes -> {
          List<AsyncResult<Stored>> out = new ArrayList<>(attempts.size());
          for (int i = 0; i < attempts.size(); i++) {
            out.add(outcome(attempts.get(i), outcomes.get(i)));
          }
          return out;
        });
  }

  /** The answer of one send from what PostgreSQL found ({@link MessageStore.Outcome}). */
  private AsyncResult<Stored> outcome(MessageStore.Attempt a, MessageStore.Outcome o) {
    Party claimed = a.sender();
    if (o.refused() != null) {
      return Future.failedFuture(
          switch (o.refused()) {
            case RECIPIENT_PENDING_FULL ->
                full(
                    Refusal.Full.Reason.RECIPIENT_PENDING_FULL,
                    "a recipient of this message has too many unacknowledged messages waiting;"
                        + " nothing was stored: send again once it has come online and"
                        + " acknowledged some (or they expired)");
            case SENDER_PENDING_FULL ->
                full(
                    Refusal.Full.Reason.SENDER_PENDING_FULL,
                    "you have too many messages not yet acknowledged by their recipients;"
                        + " nothing was stored: send again once they have acknowledged some"
                        + " (or they expired)");
            case PRINCIPAL_NOT_ACTIVE -> MessagingAuth.notActive(claimed.kind());
            case NO_CONVERSATION -> Refusal.notFound("conversation");
            case NOT_A_PARTY ->
                Refusal.notAllowed(
                    Refusal.NotAllowed.Reason.NOT_A_PARTY,
                    "recipient "
                        + o.stranger()
                        + " is not an active principal of the conversation's other side",
                    "copies");
          });
    }
    Party p =
        new Party(
            claimed.workspaceId(), claimed.kind(), claimed.id(), claimed.accountId(), o.machine());
    long bytes = 0;
    Map<UUID, MessageStore.Stored> copies = new LinkedHashMap<>();
    for (int i = 0; i < o.fresh().size(); i++) {
      UUID r = o.fresh().get(i);
      byte[] ct = a.copies().get(r);
      bytes += ct.length;
      copies.put(
          r,
          new MessageStore.Stored(
              o.seqs().get(i),
              a.id(),
              a.conversation(),
              claimed.kind().wire(),
              claimed.id(),
              ct,
              o.storedAt()));
    }
    return Future.succeededFuture(
        new Stored(
            p,
            new Sent(
                a.id(),
                o.fresh(),
                a.copies().size() - o.fresh().size(),
                bytes,
                o.account(),
                copies)));
  }

  private Refusal.Full full(Refusal.Full.Reason reason, String message) {
    full.get(reason).increment();
    return Refusal.full(reason, message);
  }

  /** An id another sender holds a claim on: the transaction that claimed it cannot commit. */
  static final class Taken extends RuntimeException {
    Taken() {
      super("a message id is held by another sender", null, false, false);
    }

    static Refusal.Conflict refusal() {
      return Refusal.conflict(
          Refusal.Conflict.Reason.MESSAGE_ID_TAKEN,
          "this message id was used by another sender",
          "id");
    }
  }

  private static boolean isSide(Party p, MessageStore.Conversation c) {
    return p.kind() == Party.Kind.AGENT
        ? c.agentId().equals(p.id())
        : c.accountId().equals(p.accountId());
  }

  Future<List<MessageStore.Stored>> pending(SqlConnection conn, Party p, long afterSeq, int fetch) {
    return store.pending(conn, p.id(), afterSeq, fetch);
  }

  /** The time a send stores its copies and claims with. */
  OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
