package dev.umbra.controlplane.inbox;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.sharing.Actor;
import dev.umbra.controlplane.sharing.AsActor;
import dev.umbra.controlplane.sharing.AsActor.Done;
import dev.umbra.controlplane.sharing.ShareKind;
import dev.umbra.controlplane.sharing.WorkAccess;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusNames;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * Inbox items (docs/agents.md, "Inbox"). An approved agent raises one and waits; the workspace's
 * admins and the members of the teams it is shared with (member role, a credential that may write)
 * decide it; the decision reaches the waiting agent at once: its long-poll subscribed to the item's
 * bus channel before reading the item, and the decision is published on that channel after its
 * commit. An open item past its deadline takes its default the next time any request reads the
 * workspace's inbox (and the waiting request wakes at the deadline to be that request).
 */
final class InboxService {
  static final String SERVICE = "control-plane";

  private final Vertx vertx;
  private final Bus bus;
  private final WorkAccess access;
  private final InboxStore store;
  private final AuditEmitter audit;
  private final Ids ids;
  private final Clock clock;

  InboxService(
      Vertx vertx,
      Bus bus,
      WorkAccess access,
      InboxStore store,
      AuditEmitter audit,
      Ids ids,
      Clock clock) {
    this.vertx = vertx;
    this.bus = bus;
    this.access = access;
    this.store = store;
    this.audit = audit;
    this.ids = ids;
    this.clock = clock;
  }

  private OffsetDateTime now() {
    return WorkAccess.now(clock);
  }

  /** Work in the workspace after its due items took their defaults (audited after the commit). */
  private <T> Future<T> run(
      AsActor as, UUID wid, boolean write, BiFunction<SqlConnection, Actor, Future<T>> work) {
    return as.<Expired<T>>run(
            write,
            (conn, actor) ->
                store
                    .expire(conn, now())
                    .compose(ex -> work.apply(conn, actor).map(v -> new Expired<>(v, ex))))
        .map(
            e -> {
              e.expired().forEach(i -> expired(wid, i));
              return e.value();
            });
  }

  private record Expired<T>(T value, List<InboxItem> expired) {}

  void expired(UUID wid, InboxItem i) {
    audit
        .event(AuditAction.INBOX_ITEM_EXPIRED)
        .workspace(wid)
        .actor(AuditActor.service(SERVICE))
        .target("inbox_item", i.id())
        .meta("kind", i.kind())
        .meta(i.authorKind(), i.authorId())
        .success()
        .emit();
    wake(wid, i.id());
  }

  void wake(UUID wid, UUID item) {
    bus.publish(BusNames.inboxItem(wid, item), Buffer.buffer());
  }

  Future<InboxItem.Shared> raise(AsActor as, UUID wid, InboxItem.Question q) {
    UUID id = ids.next();
    return run(
            as,
            wid,
            true,
            (conn, actor) -> {
              if (!actor.isAgent()) {
                return Future.failedFuture(WorkAccess.refused("only an agent raises inbox items"));
              }
              OffsetDateTime now = now();
              return access
                  .shares()
                  .requireTeams(conn, q.teamIds())
                  .compose(
                      v ->
                          store.insert(
                              conn,
                              wid,
                              id,
                              actor.agentId(),
                              q,
                              now.plusSeconds(q.deadlineSeconds()),
                              now))
                  .compose(
                      i ->
                          access
                              .shares()
                              .grantAll(conn, wid, ShareKind.INBOX_ITEM, id, q.teamIds(), now())
                              .compose(v -> shared(conn, i)))
                  .map(s -> new Done<>(s, actor));
            })
        .map(
            done -> {
              done.actor()
                  .audited(audit, AuditAction.INBOX_ITEM_RAISED, wid, "inbox_item", id)
                  .meta("kind", q.kind())
                  .meta("teams", Integer.toString(q.teamIds().size()))
                  .emit();
              return done.value();
            });
  }

  Future<List<InboxItem>> page(AsActor as, UUID wid, String status, UUID after, int limit) {
    return run(
        as,
        wid,
        false,
        (conn, actor) ->
            store.page(
                conn,
                actor.isAdmin(),
                actor.isAgent() ? actor.agentId() : new UUID(0, 0),
                actor.memberOrNobody(),
                status,
                after,
                limit));
  }

  Future<InboxItem.Shared> get(AsActor as, UUID wid, UUID id) {
    return run(
        as, wid, false, (conn, actor) -> visible(conn, actor, id).compose(i -> shared(conn, i)));
  }

  Future<InboxItem.Shared> decide(AsActor as, UUID wid, UUID id, String answer) {
    return run(
            as,
            wid,
            true,
            (conn, actor) ->
                visible(conn, actor, id)
                    .compose(
                        i -> {
                          if (!actor.mayAct()) {
                            return Future.failedFuture(
                                WorkAccess.refused("deciding needs a member with the member role"));
                          }
                          if (!i.open()) {
                            return Future.failedFuture(alreadyDecided(i));
                          }
                          InboxRules.checkAnswer(i.kind(), i.options(), answer, "answer");
                          return store
                              .decide(conn, id, answer, actor.accountId(), now())
                              .compose(
                                  d ->
                                      d == null
                                          ? Future.failedFuture(alreadyDecided(i))
                                          : shared(conn, d))
                              .map(s -> new Done<>(s, actor));
                        }))
        .map(
            done -> {
              InboxItem i = done.value().item();
              done.actor()
                  .audited(audit, AuditAction.INBOX_ITEM_DECIDED, wid, "inbox_item", id)
                  .meta("kind", i.kind())
                  .meta(i.authorKind(), i.authorId())
                  .emit();
              wake(wid, id);
              return done.value();
            });
  }

  /**
   * The item once it is decided or expired, waiting up to {@code wait} while it is open: the
   * request subscribes to the item's bus channel first, then reads it, so a decision committed
   * between the two is not missed.
   */
  Future<InboxItem.Shared> await(AsActor as, UUID wid, UUID id, Duration wait) {
    Promise<Void> woke = Promise.promise();
    return bus.subscribe(BusNames.inboxItem(wid, id), m -> woke.tryComplete())
        .compose(
            sub ->
                get(as, wid, id)
                    .compose(
                        s -> {
                          if (!s.item().open() || wait.isZero()) {
                            return Future.succeededFuture(s);
                          }
                          long untilDeadline =
                              Duration.between(clock.instant(), s.item().deadline()).toMillis() + 1;
                          long ms = Math.max(1, Math.min(wait.toMillis(), untilDeadline));
                          long timer = vertx.setTimer(ms, t -> woke.tryComplete());
                          return woke.future()
                              .compose(
                                  v -> {
                                    vertx.cancelTimer(timer);
                                    return get(as, wid, id);
                                  });
                        })
                    .eventually(sub::unsubscribe));
  }

  private static Refusal alreadyDecided(InboxItem i) {
    return Refusal.conflict(
        Refusal.Conflict.Reason.ALREADY_DECIDED,
        "the item is " + i.status() + " (" + i.answer() + ")",
        "answer");
  }

  /** The item if the actor may see it (admins, its agent, its teams' members); else 404. */
  private Future<InboxItem> visible(SqlConnection conn, Actor actor, UUID id) {
    return store
        .get(conn, id)
        .compose(
            i -> {
              if (i == null) {
                return Future.failedFuture(Refusal.notFound("inbox item"));
              }
              boolean own = actor.isAgent() && actor.agentId().equals(i.agentId());
              return access
                  .maySee(conn, actor, ShareKind.INBOX_ITEM, id, own)
                  .compose(
                      seen ->
                          seen
                              ? Future.succeededFuture(i)
                              : Future.failedFuture(Refusal.notFound("inbox item")));
            });
  }

  Future<InboxItem.Shared> shared(SqlConnection conn, InboxItem i) {
    return access
        .shares()
        .teams(conn, ShareKind.INBOX_ITEM, i.id())
        .map(ts -> new InboxItem.Shared(i, ts));
  }
}
