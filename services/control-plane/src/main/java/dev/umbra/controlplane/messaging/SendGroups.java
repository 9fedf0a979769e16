package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.notify.AuditOutbox;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.db.Database;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Group commit of sends (docs/messaging.md, "Group commit"): the sends of one workspace that arrive
 * while earlier ones are being stored wait, and are then stored together in one transaction — one
 * statement checking every send (party, conversation, recipients) and claiming and storing the
 * copies of those that pass, one {@code COMMIT} (one WAL flush) — instead of a transaction each. At
 * most {@value #MAX_RUNNING} transactions per workspace run at once, so a send that finds none
 * running starts at once (no waiting for company). Each send is still answered on its own and only
 * after the commit that stored it; a send refused by its checks (party, conversation, recipients)
 * is refused alone, the others of its group go on. If the group's transaction fails as a whole (an
 * id another sender holds, a database error), nothing of it was kept and each of its sends is run
 * again in its own transaction, so one send's failure stays its own.
 */
final class SendGroups {
  /** Most sends stored in one transaction. */
  static final int MAX_GROUP = 64;

  /** Most group transactions running at once per workspace. */
  static final int MAX_RUNNING = 2;

  /**
   * A stored send: who sent it, what was stored, the webhook signal queued with it and its audit
   * event as prepared (written down in the transaction when it stored a copy: {@link AuditOutbox}).
   */
  record Done(
      Party party,
      MessageService.Sent sent,
      WebhookDeliveries.Enqueued notification,
      AuditEvent audit) {}

  private record Request(
      UUID wid,
      SessionClaims claims,
      UUID id,
      UUID conversation,
      Map<UUID, byte[]> copies,
      AuditEvent audit,
      Object batch,
      Context context,
      Promise<Done> promise) {
    void complete(AsyncResult<Done> ar) {
      if (context == null || Vertx.currentContext() == context) {
        promise.handle(ar);
      } else {
        context.runOnContext(v -> promise.handle(ar));
      }
    }
  }

  /** A workspace's sends waiting for a transaction, and how many of its groups run. */
  private static final class Queue {
    final ArrayDeque<Request> waiting = new ArrayDeque<>();
    int running;
  }

  private final Database db;
  private final MessageService messages;
  private final Notifier notifier;
  private final AuditOutbox outbox;
  private final Map<UUID, Queue> queues = new HashMap<>(); // guarded by this

  SendGroups(Database db, MessageService messages, Notifier notifier, AuditOutbox outbox) {
    this.db = db;
    this.messages = messages;
    this.notifier = notifier;
    this.outbox = outbox;
  }

  /**
   * Stores sends as the party of {@code claims} in workspace {@code wid}; each future completes
   * after the commit that stored its send (on the caller's context), or with its refusal. The sends
   * of one call (a batch, {@code POST /messages/batch}) are queued together: a group never ends
   * inside a batch that did not start it, so a batch (at most {@value #MAX_GROUP} sends) is stored
   * in one transaction, in its order (unless it repeats an id: the repeat waits for the next
   * group). {@code audits} holds each send's prepared audit event, in step with {@code sends}.
   */
  List<Future<Done>> sendAll(
      UUID wid, SessionClaims claims, List<SendBatch.Send> sends, List<AuditEvent> audits) {
    Object batch = sends.size() > 1 ? new Object() : null;
    List<Future<Done>> out = new ArrayList<>(sends.size());
    List<Request> requests = new ArrayList<>(sends.size());
    for (int i = 0; i < sends.size(); i++) {
      SendBatch.Send s = sends.get(i);
      Promise<Done> promise = Promise.promise();
      requests.add(
          new Request(
              wid,
              claims,
              s.id(),
              s.conversation(),
              s.copies(),
              audits.get(i),
              batch,
              Vertx.currentContext(),
              promise));
      out.add(promise.future());
    }
    List<List<Request>> groups = new ArrayList<>();
    synchronized (this) {
      Queue q = queues.computeIfAbsent(wid, k -> new Queue());
      q.waiting.addAll(requests);
      for (List<Request> g = next(q); g != null; g = next(q)) {
        groups.add(g);
      }
    }
    groups.forEach(g -> run(wid, g));
    return out;
  }

  /**
   * The next group of {@code q} (oldest first, distinct ids: a repeated id waits for the next
   * group) if fewer than {@value #MAX_RUNNING} of its groups run; else null. Guarded by this.
   */
  private static List<Request> next(Queue q) {
    if (q.running >= MAX_RUNNING || q.waiting.isEmpty()) {
      return null;
    }
    List<Request> group = new ArrayList<>();
    Set<UUID> ids = new HashSet<>();
    while (!q.waiting.isEmpty() && group.size() < MAX_GROUP && ids.add(q.waiting.peek().id())) {
      group.add(q.waiting.poll());
    }
    // a group that would end inside a batch it did not start gives the batch's part back
    Object batch = group.getLast().batch();
    if (batch != null
        && group.getFirst().batch() != batch
        && !q.waiting.isEmpty()
        && q.waiting.peek().batch() == batch) {
      while (group.getLast().batch() == batch) {
        q.waiting.addFirst(group.removeLast());
      }
    }
    q.running++;
    return group;
  }

  private void run(UUID wid, List<Request> group) {
    attempt(wid, group)
        .onComplete(
            ar -> {
              List<Request> more;
              synchronized (this) {
                Queue q = queues.get(wid);
                q.running--;
                more = next(q);
                if (more == null && q.running == 0) {
                  queues.remove(wid);
                }
              }
              if (more != null) {
                run(wid, more);
              }
            });
  }

  /** Runs {@code group} in one transaction and answers each send; never fails. */
  private Future<Void> attempt(UUID wid, List<Request> group) {
    return stored(wid, group)
        .transform(
            ar -> {
              if (ar.succeeded()) {
                for (int i = 0; i < group.size(); i++) {
                  group.get(i).complete(ar.result().get(i));
                }
                return Future.succeededFuture();
              }
              if (group.size() == 1) {
                Throwable e = ar.cause();
                group
                    .getFirst()
                    .complete(
                        Future.failedFuture(
                            e instanceof MessageService.Taken
                                ? MessageService.Taken.refusal()
                                : e));
                return Future.succeededFuture();
              }
              // nothing of the group was kept: each send again, in its own transaction
              List<Future<Void>> each = new ArrayList<>();
              group.forEach(r -> each.add(attempt(wid, List.of(r))));
              return Future.join(each).mapEmpty();
            });
  }

  /**
   * The sends of a group that its tokens do not refuse alone (another workspace, a member session
   * without a device): {@code attempts}, each from the request at the same place of {@code at};
   * {@code out} holds each request's refusal, or null where its attempt goes on.
   */
  private record Prepared(
      List<MessageStore.Attempt> attempts, List<Integer> at, List<AsyncResult<Done>> out) {
    static Prepared of(UUID wid, List<Request> group) {
      List<AsyncResult<Done>> out = new ArrayList<>();
      List<MessageStore.Attempt> attempts = new ArrayList<>();
      List<Integer> at = new ArrayList<>();
      for (int i = 0; i < group.size(); i++) {
        Request r = group.get(i);
        try {
          Party claimed = MessagingAuth.claimed(wid, r.claims());
          attempts.add(new MessageStore.Attempt(r.id(), r.conversation(), claimed, r.copies()));
          at.add(i);
          out.add(null);
        } catch (Refusal e) {
          out.add(Future.failedFuture(e));
        }
      }
      return new Prepared(attempts, at, out);
    }

    boolean anyAgent() {
      return attempts.stream().anyMatch(a -> a.sender().kind() == Party.Kind.AGENT);
    }

    /** The audit rows of the attempts (their prepared events, each with its sending agent). */
    List<AuditOutbox.Entry> audits(List<Request> group) {
      List<AuditOutbox.Entry> audits = new ArrayList<>(attempts.size());
      for (int j = 0; j < attempts.size(); j++) {
        MessageStore.Attempt a = attempts.get(j);
        UUID agent = a.sender().kind() == Party.Kind.AGENT ? a.sender().id() : null;
        audits.add(new AuditOutbox.Entry(a.id(), group.get(at.get(j)).audit(), agent));
      }
      return audits;
    }
  }

  /**
   * Stores {@code group}: its sends' checks, copies and audit rows in one transaction, answered per
   * send in order; fails (nothing kept) only as a whole. Without an agent's send — nothing to queue
   * after the send's answer — the transaction is one statement that commits itself ({@link
   * MessageService#sendCommitting}): PostgreSQL answers once, after the commit, instead of four
   * times (docs/messaging.md, "How a send is stored"); else {@link #store}.
   */
  private Future<List<AsyncResult<Done>>> stored(UUID wid, List<Request> group) {
    Prepared p = Prepared.of(wid, group);
    if (p.attempts().isEmpty()) {
      return Future.succeededFuture(p.out());
    }
    OffsetDateTime stamp = messages.now();
    if (!p.anyAgent()) {
      return messages
          .sendCommitting(db, wid, p.attempts(), stamp, p.audits(group))
          .map(
              each -> {
                for (int j = 0; j < each.size(); j++) {
                  int i = p.at().get(j);
                  p.out()
                      .set(
                          i,
                          each.get(j).failed()
                              ? Future.failedFuture(each.get(j).cause())
                              : Future.succeededFuture(
                                  new Done(
                                      each.get(j).result().party(),
                                      each.get(j).result().sent(),
                                      WebhookDeliveries.Enqueued.NONE,
                                      group.get(i).audit())));
                }
                return p.out();
              });
    }
    return db.inWorkspaceCommittingEarly(wid, (conn, commit) -> store(conn, wid, group, p, stamp));
  }

  /**
   * The work of a group with an agent's send in its transaction: one statement ({@link
   * MessageService#send}) sent with {@code BEGIN} and the workspace setting (PostgreSQL runs it
   * after the setting, so row-level security applies) and the audit events' rows of the sends it
   * stored ({@link AuditOutbox#insert}). The statement makes every check (party, conversation,
   * recipients) and stores only the sends that pass. An agent's send queues its webhook signal
   * after the statement's answer, then the {@code COMMIT} follows. Answers, per send in order, its
   * outcome; fails (the transaction rolls back) only as a whole.
   */
  private Future<List<AsyncResult<Done>>> store(
      SqlConnection conn, UUID wid, List<Request> group, Prepared p, OffsetDateTime stamp) {
    List<MessageStore.Attempt> attempts = p.attempts();
    Future<List<AsyncResult<MessageService.Stored>>> sent =
        messages.send(conn, wid, attempts, stamp);
    Future<Void> written = outbox.insert(conn, wid, stamp, p.audits(group));
    // the send's failure (an id another sender holds) is the one to report, not the insert's
    // (PostgreSQL refuses the insert of an aborted transaction)
    return sent.compose(
        each -> written.compose(v -> notify(conn, wid, attempts, each, p.at(), group, p.out())));
  }

  /**
   * An agent's newly stored message queues the member's webhook signal in the same transaction: a
   * stored message and its signal commit together or not at all (docs/messaging.md). Fills {@code
   * out} at {@code at} with each send's outcome.
   */
  private Future<List<AsyncResult<Done>>> notify(
      SqlConnection conn,
      UUID wid,
      List<MessageStore.Attempt> attempts,
      List<AsyncResult<MessageService.Stored>> each,
      List<Integer> at,
      List<Request> group,
      List<AsyncResult<Done>> out) {
    Future<Void> chain = Future.succeededFuture();
    for (int j = 0; j < attempts.size(); j++) {
      int i = at.get(j);
      if (each.get(j).failed()) {
        out.set(i, Future.failedFuture(each.get(j).cause()));
        continue;
      }
      Party p = each.get(j).result().party();
      MessageService.Sent s = each.get(j).result().sent();
      AuditEvent audit = group.get(i).audit();
      if (s.stored().isEmpty() || p.kind() != Party.Kind.AGENT) {
        out.set(i, Future.succeededFuture(new Done(p, s, WebhookDeliveries.Enqueued.NONE, audit)));
        continue;
      }
      UUID conversation = attempts.get(j).conversation();
      chain =
          chain.compose(
              v ->
                  notifier
                      .enqueue(conn, wid, s.account(), p.id(), conversation, s.id())
                      .map(
                          e -> {
                            out.set(i, Future.succeededFuture(new Done(p, s, e, audit)));
                            return null;
                          }));
    }
    return chain.map(v -> out);
  }
}
