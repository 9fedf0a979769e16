package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.workspaces.Tenancy;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

  MessageService(MessageStore store, Ids ids, Clock clock) {
    this.store = store;
    this.ids = ids;
    this.clock = clock;
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

  /**
   * The statement a send needs before its checks (the conversation and the active principals of the
   * other side), to send ahead with the party's check: see {@link SendGroups}.
   */
  Future<Optional<MessageStore.Target>> target(
      SqlConnection conn, Party.Kind senderKind, UUID conversation) {
    return store.target(conn, conversation, senderKind);
  }

  /**
   * Checks a send against {@code target} (from {@link #target}, read in this transaction): the
   * conversation must be one of {@code p}'s, every copy for an active principal of its other side.
   * Answers what to store; throws the refusal otherwise (nothing read or written).
   */
  MessageStore.Send plan(
      Party p, UUID id, Optional<MessageStore.Target> target, Map<UUID, byte[]> copies) {
    MessageStore.Conversation c =
        target
            .map(MessageStore.Target::conversation)
            .filter(x -> isSide(p, x))
            .orElseThrow(() -> Refusal.notFound("conversation"));
    Party.Kind kind = p.kind() == Party.Kind.DEVICE ? Party.Kind.AGENT : Party.Kind.DEVICE;
    List<UUID> peers = target.get().others();
    List<MessageStore.Copy> rows = new ArrayList<>();
    for (Map.Entry<UUID, byte[]> e : copies.entrySet()) {
      if (!peers.contains(e.getKey())) {
        throw Refusal.notAllowed(
            Refusal.NotAllowed.Reason.NOT_A_PARTY,
            "recipient "
                + e.getKey()
                + " is not an active principal of the conversation's other side",
            "copies");
      }
      rows.add(new MessageStore.Copy(e.getKey(), kind.wire(), e.getValue()));
    }
    return new MessageStore.Send(id, c.id(), c.accountId(), p, rows);
  }

  /**
   * Stores {@code sends} (from {@link #plan}; distinct ids) in this transaction, in their order;
   * its statements are all issued before this returns (the caller may queue the {@code COMMIT}
   * right behind them). Answers what each stored, in the same order; fails with a {@link Taken} if
   * another sender holds one of the ids (PostgreSQL has then aborted the transaction: nothing of it
   * is kept).
   */
  Future<List<Sent>> store(SqlConnection conn, UUID wid, List<MessageStore.Send> sends) {
    return store
        .claimAndInsert(conn, wid, sends, now())
        .map(
            claim -> {
              List<Sent> out = new ArrayList<>();
              for (MessageStore.Send s : sends) {
                Map<UUID, MessageStore.Inserted> fresh = claim.getOrDefault(s.id(), Map.of());
                long stored = 0;
                Map<UUID, MessageStore.Stored> copies = new java.util.LinkedHashMap<>();
                for (MessageStore.Copy c : s.copies()) {
                  MessageStore.Inserted in = fresh.get(c.recipient());
                  if (in != null) {
                    stored += c.ciphertext().length;
                    copies.put(c.recipient(), stored(s, c, in));
                  }
                }
                out.add(
                    new Sent(
                        s.id(),
                        List.copyOf(fresh.keySet()),
                        s.copies().size() - fresh.size(),
                        stored,
                        s.account(),
                        copies));
              }
              return out;
            });
  }

  /** The copy {@code c} of {@code s} as stored ({@code in}), as its recipient would read it. */
  private static MessageStore.Stored stored(
      MessageStore.Send s, MessageStore.Copy c, MessageStore.Inserted in) {
    return new MessageStore.Stored(
        in.seq(),
        s.id(),
        s.conversation(),
        s.sender().kind().wire(),
        s.sender().id(),
        c.ciphertext(),
        in.createdAt());
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

  Future<Integer> ack(SqlConnection conn, Party p, List<UUID> messageIds) {
    return store.ack(conn, p.id(), messageIds);
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
