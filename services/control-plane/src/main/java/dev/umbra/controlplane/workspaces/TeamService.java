package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * Teams of a workspace: viewers read them, admins create and delete them and change their members.
 */
final class TeamService {
  private final Tenancy tenancy;
  private final TeamStore store;
  private final AuditTrail audit;
  private final Ids ids;
  private final Clock clock;

  TeamService(Tenancy tenancy, TeamStore store, AuditTrail audit, Ids ids, Clock clock) {
    this.tenancy = tenancy;
    this.store = store;
    this.audit = audit;
    this.ids = ids;
    this.clock = clock;
  }

  private static <T> Future<T> found(T value, String what) {
    return value == null
        ? Future.failedFuture(Refusal.notFound(what))
        : Future.succeededFuture(value);
  }

  private static Future<Void> done(boolean done, String what) {
    return done ? Future.succeededFuture() : Future.failedFuture(Refusal.notFound(what));
  }

  Future<Team> create(Caller caller, UUID wid, String name) {
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            (conn, m) ->
                store
                    .add(
                        conn,
                        wid,
                        ids.next(),
                        name,
                        OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC))
                    .compose(
                        t ->
                            t == null
                                ? Future.failedFuture(
                                    Refusal.conflict(
                                        Reason.TEAM_NAME_TAKEN,
                                        "a team with that name exists",
                                        "name"))
                                : Future.succeededFuture(t)))
        .onSuccess(
            t ->
                audit.memberDid(
                    caller.sourceIp(),
                    wid,
                    caller.accountId(),
                    AuditAction.TEAM_CREATED,
                    "team:" + t.id()));
  }

  Future<List<Team>> page(Caller caller, UUID wid, UUID after, int limit) {
    return tenancy.asMember(
        caller.principal(), wid, Role.VIEWER, (conn, m) -> store.page(conn, after, limit));
  }

  Future<Team.WithMembers> get(Caller caller, UUID wid, UUID teamId) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.VIEWER,
        (conn, m) ->
            store
                .get(conn, teamId)
                .compose(t -> found(t, "team"))
                .compose(
                    t -> store.memberIds(conn, teamId).map(ids -> new Team.WithMembers(t, ids))));
  }

  Future<Void> delete(Caller caller, UUID wid, UUID teamId) {
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            (conn, m) -> store.delete(conn, teamId).compose(d -> done(d, "team")))
        .onSuccess(
            v ->
                audit.memberDid(
                    caller.sourceIp(),
                    wid,
                    caller.accountId(),
                    AuditAction.TEAM_DELETED,
                    "team:" + teamId));
  }

  Future<Void> addMember(Caller caller, UUID wid, UUID teamId, UUID memberId) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audit.memberWill(caller, wid, AuditAction.TEAM_MEMBER_ADDED, "member:" + memberId),
        (conn, m) ->
            store
                .get(conn, teamId)
                .compose(t -> found(t, "team"))
                .compose(t -> store.memberExists(conn, memberId))
                .compose(
                    exists ->
                        exists
                            ? store.addMember(conn, wid, teamId, memberId)
                            : Future.failedFuture(Refusal.notFound("member"))));
  }

  Future<Void> removeMember(Caller caller, UUID wid, UUID teamId, UUID memberId) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audit.memberWill(caller, wid, AuditAction.TEAM_MEMBER_REMOVED, "member:" + memberId),
        (conn, m) ->
            store.removeMember(conn, teamId, memberId).compose(d -> done(d, "team member")));
  }
}
