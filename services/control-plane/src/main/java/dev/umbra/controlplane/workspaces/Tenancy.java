package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.auth.Principal;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Runs a request's work inside its workspace (row-level security on) after checking, in the same
 * transaction, that the caller is a member with at least the needed role. Not a member looks
 * exactly like a workspace that does not exist (404), and is not audited (it names no workspace the
 * caller may know of); a member below the needed role is refused (403) and audited as {@code
 * access.denied} (reason {@code role}, metadata {@code needed}), aggregated per window by the kit's
 * emitter like every refusal.
 */
public final class Tenancy {
  private final Database db;
  private final AuditEmitter audit;

  public Tenancy(Database db, AuditEmitter audit) {
    this.db = db;
    this.audit = audit;
  }

  public Database db() {
    return db;
  }

  /**
   * As {@link #asMember(Principal, UUID, Role, BiFunction)}, for an action audited through the
   * outbox ({@link AuditTrail#memberWill}): its event is written down in the same transaction once
   * {@code work} succeeded, and appended once the transaction committed.
   */
  public <T> Future<T> asMember(
      Principal p,
      UUID workspaceId,
      Role min,
      AuditTrail.Recorded audited,
      BiFunction<SqlConnection, Membership, Future<T>> work) {
    return asMember(
            p, workspaceId, min, (conn, m) -> audited.writtenWith(conn, work.apply(conn, m)))
        .onSuccess(x -> audited.committed());
  }

  /**
   * As {@link #asMember(Principal, UUID, Role, AuditTrail.Recorded, BiFunction)}, for an action
   * whose event depends on what {@code work} produced (the id an upsert kept): {@code auditOf}
   * makes it from {@code work}'s result, in the transaction, where it is written down; it is
   * appended once the transaction committed.
   */
  public <T> Future<T> asMember(
      Principal p,
      UUID workspaceId,
      Role min,
      BiFunction<SqlConnection, Membership, Future<T>> work,
      Function<? super T, AuditTrail.Recorded> auditOf) {
    return asMember(
            p,
            workspaceId,
            min,
            (conn, m) -> work.apply(conn, m).compose(t -> auditOf.apply(t).writtenDown(conn, t)))
        .map(AuditTrail.Done::committed);
  }

  public <T> Future<T> asMember(
      Principal p,
      UUID workspaceId,
      Role min,
      BiFunction<SqlConnection, Membership, Future<T>> work) {
    return db.inWorkspace(
        workspaceId,
        conn ->
            membership(conn, workspaceId, p.accountId())
                .compose(
                    m -> {
                      if (m == null) {
                        return Future.failedFuture(Refusal.notFound("workspace"));
                      }
                      Role effective = p.scope() == TokenScope.READ ? Role.VIEWER : m.role();
                      if (!effective.atLeast(min)) {
                        audit
                            .event(AuditAction.ACCESS_DENIED)
                            .workspace(workspaceId)
                            .actor(AuditActor.member(p.accountId().toString()))
                            .target("workspace", workspaceId)
                            .meta("needed", min.wire())
                            .denied("role")
                            .emit();
                        return Future.failedFuture(
                            Refusal.notAllowed(
                                Refusal.NotAllowed.Reason.ROLE_TOO_LOW,
                                "this needs the " + min.wire() + " role or higher",
                                null));
                      }
                      return work.apply(
                          conn,
                          new Membership(m.workspaceId(), m.memberId(), m.accountId(), effective));
                    }));
  }

  /**
   * The account's membership, read under the workspace already set on {@code conn}; null when none.
   */
  public static Future<Membership> membership(
      SqlConnection conn, UUID workspaceId, UUID accountId) {
    return conn.preparedQuery("SELECT id, role FROM members WHERE account_id = $1")
        .execute(Tuple.of(accountId))
        .map(
            rows -> {
              if (rows.size() == 0) {
                return null;
              }
              Row r = rows.iterator().next();
              return new Membership(
                  workspaceId,
                  r.getUUID("id"),
                  accountId,
                  Role.parse(r.getString("role")).orElseThrow());
            });
  }

  /** Sets the workspace of an already open transaction (for flows that learn it mid-way). */
  public static Future<Void> enter(SqlConnection conn, UUID workspaceId) {
    return conn.preparedQuery("SELECT set_config('umbra.workspace_id', $1, true)")
        .execute(Tuple.of(workspaceId.toString()))
        .mapEmpty();
  }
}
