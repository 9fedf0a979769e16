package dev.umbra.controlplane.sharing;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.UUID;

/**
 * Sharing plans, inbox items and machines with teams (docs/agents.md, "Access"): HTTP and the one
 * rule of who may share. An admin may share anything; the author of a plan may share it. The team
 * and the resource must be of the route's workspace: another workspace's are not visible (404), and
 * the share tables' composite foreign keys refuse them all the same.
 */
public final class ShareRoutes {
  private final WorkAccess access;
  private final AuditEmitter audit;
  private final Clock clock;

  public ShareRoutes(WorkAccess access, AuditEmitter audit, Clock clock) {
    this.access = access;
    this.audit = audit;
    this.clock = clock;
  }

  public void register(ApiRoutes routes) {
    add(routes, ControlPlanePaths.PLAN_SHARE, ShareKind.PLAN, "plan_id", "a plan");
    add(routes, ControlPlanePaths.INBOX_SHARE, ShareKind.INBOX_ITEM, "item_id", "an inbox item");
    add(routes, ControlPlanePaths.MACHINE_SHARE, ShareKind.MACHINE, "machine_id", "a machine");
  }

  private void add(ApiRoutes routes, String path, ShareKind kind, String param, String what) {
    routes
        .add(
            HttpMethod.PUT,
            path,
            "Share "
                + what
                + " with a team of the workspace (admin"
                + (kind == ShareKind.PLAN ? ", or the plan's author)" : ")"),
            Auth.API_OR_SESSION_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, ctx -> change(ctx, kind, param, true)))
        .add(
            HttpMethod.DELETE,
            path,
            "Stop sharing " + what + " with a team",
            Auth.API_OR_SESSION_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, ctx -> change(ctx, kind, param, false)));
  }

  private Future<Void> change(RoutingContext ctx, ShareKind kind, String param, boolean grant) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, param);
    UUID team = Requests.uuidParam(ctx, "team_id");
    Shares shares = access.shares();
    return access.as(
        ctx,
        true,
        (conn, actor) ->
            shares
                .author(conn, kind, id)
                .compose(
                    row -> {
                      if (row == null) {
                        return Future.failedFuture(Refusal.notFound(kind.wire()));
                      }
                      boolean author =
                          kind == ShareKind.PLAN
                              && actor.isAuthor(
                                  row.getString("author_kind"), row.getUUID("author_id"));
                      return access
                          .maySee(conn, actor, kind, id, author)
                          .compose(
                              seen -> {
                                if (!seen) {
                                  return Future.failedFuture(Refusal.notFound(kind.wire()));
                                }
                                if (!actor.isAdmin() && !(author && actor.mayWrite())) {
                                  return Future.failedFuture(
                                      WorkAccess.refused(
                                          "only an admin"
                                              + (kind == ShareKind.PLAN
                                                  ? " or the plan's author"
                                                  : "")
                                              + " may change its shares"));
                                }
                                return grant
                                    ? grant(conn, wid, kind, id, team)
                                    : shares
                                        .revoke(conn, kind, id, team)
                                        .compose(
                                            d ->
                                                d
                                                    ? Future.<Void>succeededFuture()
                                                    : Future.failedFuture(
                                                        Refusal.notFound("share")));
                              });
                    })
                .onSuccess(
                    v ->
                        actor
                            .audited(
                                audit,
                                grant ? AuditAction.SHARE_GRANTED : AuditAction.SHARE_REVOKED,
                                wid,
                                kind.wire(),
                                id)
                            .meta("team", team.toString())
                            .emit()));
  }

  private Future<Void> grant(
      io.vertx.sqlclient.SqlConnection conn, UUID wid, ShareKind kind, UUID id, UUID team) {
    Shares shares = access.shares();
    return shares
        .existingTeams(conn, java.util.List.of(team))
        .compose(
            found ->
                found.isEmpty()
                    ? Future.failedFuture(Refusal.notFound("team"))
                    : shares.grant(conn, wid, kind, id, team, WorkAccess.now(clock)));
  }
}
