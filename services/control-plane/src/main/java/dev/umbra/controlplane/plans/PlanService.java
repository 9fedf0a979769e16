package dev.umbra.controlplane.plans;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.sharing.Actor;
import dev.umbra.controlplane.sharing.AsActor;
import dev.umbra.controlplane.sharing.AsActor.Done;
import dev.umbra.controlplane.sharing.ShareKind;
import dev.umbra.controlplane.sharing.WorkAccess;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * Plans under review (docs/agents.md, "Plans"). An agent or a member publishes one; its author, the
 * workspace's admins and the members of the teams it is shared with see it; those of them with the
 * member role (and a credential that may write) comment and give verdicts on the current version;
 * its author (or an admin) publishes new versions, each kept, each back in review. Agents comment
 * on their own plans but give no verdicts.
 */
final class PlanService {
  private final WorkAccess access;
  private final PlanStore store;
  private final AuditEmitter audit;
  private final Ids ids;
  private final Clock clock;

  PlanService(WorkAccess access, PlanStore store, AuditEmitter audit, Ids ids, Clock clock) {
    this.access = access;
    this.store = store;
    this.audit = audit;
    this.ids = ids;
    this.clock = clock;
  }

  private OffsetDateTime now() {
    return WorkAccess.now(clock);
  }

  Future<Plan.Full> publish(AsActor as, UUID wid, Plan.Draft d) {
    UUID id = ids.next();
    return as.run(
            true,
            (conn, actor) -> {
              if (!actor.isAgent() && !actor.mayAct()) {
                return Future.failedFuture(
                    WorkAccess.refused("publishing a plan needs the member role"));
              }
              return access
                  .shares()
                  .requireTeams(conn, d.teamIds())
                  .compose(
                      v ->
                          store.insert(
                              conn,
                              wid,
                              id,
                              actor.kind().wire(),
                              actor.authorId(),
                              d.title(),
                              now()))
                  .compose(
                      p ->
                          store
                              .addVersion(
                                  conn, wid, id, 1, d, actor.kind().wire(), actor.authorId(), now())
                              .compose(
                                  v ->
                                      access
                                          .shares()
                                          .grantAll(
                                              conn, wid, ShareKind.PLAN, id, d.teamIds(), now()))
                              .compose(v -> full(conn, p, 1))
                              .map(f -> new Done<>(f, actor)));
            })
        .map(
            done ->
                emit(done, AuditAction.PLAN_PUBLISHED, wid, id)
                    .meta("teams", Integer.toString(d.teamIds().size()))
                    .emitted(done.value()));
  }

  Future<Plan.Full> revise(AsActor as, UUID wid, UUID planId, Plan.Draft d) {
    return as.run(
            true,
            (conn, actor) ->
                visible(conn, actor, planId, true)
                    .compose(
                        p -> {
                          boolean author = actor.isAuthor(p.authorKind(), p.authorId());
                          if (!actor.isAdmin() && !(author && actor.mayWrite())) {
                            return Future.failedFuture(
                                WorkAccess.refused("only its author or an admin revises a plan"));
                          }
                          int next = p.version() + 1;
                          return access
                              .shares()
                              .requireTeams(conn, d.teamIds())
                              .compose(
                                  v ->
                                      store.addVersion(
                                          conn,
                                          wid,
                                          planId,
                                          next,
                                          d,
                                          actor.kind().wire(),
                                          actor.authorId(),
                                          now()))
                              .compose(v -> store.revise(conn, planId, next, d.title(), now()))
                              .compose(
                                  np ->
                                      access
                                          .shares()
                                          .grantAll(
                                              conn, wid, ShareKind.PLAN, planId, d.teamIds(), now())
                                          .compose(v -> full(conn, np, next)))
                              .map(f -> new Done<>(f, actor));
                        }))
        .map(
            done ->
                emit(done, AuditAction.PLAN_REVISED, wid, planId)
                    .meta("version", Integer.toString(done.value().plan().version()))
                    .emitted(done.value()));
  }

  Future<List<Plan>> page(AsActor as, UUID after, int limit) {
    return as.run(
        false,
        (conn, actor) ->
            store.page(
                conn,
                actor.isAdmin(),
                actor.kind().wire(),
                actor.authorId(),
                actor.memberOrNobody(),
                after,
                limit));
  }

  /** The plan with version {@code version} (0: the current one). */
  Future<Plan.Full> get(AsActor as, UUID planId, int version) {
    return as.run(
        false,
        (conn, actor) ->
            visible(conn, actor, planId, false)
                .compose(p -> full(conn, p, version == 0 ? p.version() : version)));
  }

  Future<Plan.Comment> comment(AsActor as, UUID wid, UUID planId, String body) {
    return as.run(
            true,
            (conn, actor) ->
                visible(conn, actor, planId, false)
                    .compose(
                        p -> {
                          boolean author = actor.isAuthor(p.authorKind(), p.authorId());
                          if (!actor.mayAct() && !(actor.isAgent() && author)) {
                            return Future.failedFuture(
                                WorkAccess.refused("commenting on a plan needs the member role"));
                          }
                          return store
                              .comment(
                                  conn,
                                  wid,
                                  ids.next(),
                                  p,
                                  actor.kind().wire(),
                                  actor.authorId(),
                                  body,
                                  now())
                              .map(c -> new Done<>(c, actor));
                        }))
        .map(
            done ->
                emit(done, AuditAction.PLAN_COMMENTED, wid, planId)
                    .meta("version", Integer.toString(done.value().version()))
                    .emitted(done.value()));
  }

  Future<Plan.Full> verdict(AsActor as, UUID wid, UUID planId, String verdict, String note) {
    return as.run(
            true,
            (conn, actor) ->
                visible(conn, actor, planId, true)
                    .compose(
                        p -> {
                          if (!actor.mayAct()) {
                            return Future.failedFuture(
                                WorkAccess.refused(
                                    "a verdict needs a member with the member role (not an agent)"));
                          }
                          String status =
                              "approve".equals(verdict) ? "approved" : "changes_requested";
                          return store
                              .verdict(
                                  conn, wid, ids.next(), p, actor.accountId(), verdict, note, now())
                              .compose(v -> store.setStatus(conn, planId, status, now()))
                              .compose(np -> full(conn, np, np.version()))
                              .map(f -> new Done<>(f, actor));
                        }))
        .map(
            done ->
                emit(
                        done,
                        "approve".equals(verdict)
                            ? AuditAction.PLAN_APPROVED
                            : AuditAction.PLAN_CHANGES_REQUESTED,
                        wid,
                        planId)
                    .meta("version", Integer.toString(done.value().plan().version()))
                    .emitted(done.value()));
  }

  /** The plan if the actor may see it; 404 otherwise (as if it did not exist). */
  private Future<Plan> visible(SqlConnection conn, Actor actor, UUID planId, boolean forUpdate) {
    return store
        .get(conn, planId, forUpdate)
        .compose(
            p ->
                p == null
                    ? Future.failedFuture(Refusal.notFound("plan"))
                    : access
                        .maySee(
                            conn,
                            actor,
                            ShareKind.PLAN,
                            planId,
                            actor.isAuthor(p.authorKind(), p.authorId()))
                        .compose(
                            seen ->
                                seen
                                    ? Future.succeededFuture(p)
                                    : Future.failedFuture(Refusal.notFound("plan"))));
  }

  private Future<Plan.Full> full(SqlConnection conn, Plan p, int version) {
    return store
        .version(conn, p.id(), version)
        .compose(
            v ->
                v == null
                    ? Future.failedFuture(Refusal.notFound("plan version"))
                    : store
                        .comments(conn, p.id())
                        .compose(
                            cs ->
                                store
                                    .verdicts(conn, p.id())
                                    .compose(
                                        vs ->
                                            access
                                                .shares()
                                                .teams(conn, ShareKind.PLAN, p.id())
                                                .map(ts -> new Plan.Full(p, v, cs, vs, ts)))));
  }

  private Emitting emit(Done<?> done, AuditAction action, UUID wid, UUID planId) {
    return new Emitting(done.actor().audited(audit, action, wid, "plan", planId));
  }

  /** An audit event being built, emitted with the value it describes. */
  private record Emitting(dev.umbra.kit.audit.AuditEventBuilder event) {
    Emitting meta(String key, String value) {
      event.meta(key, value);
      return this;
    }

    <T> T emitted(T value) {
      event.emit();
      return value;
    }
  }
}
