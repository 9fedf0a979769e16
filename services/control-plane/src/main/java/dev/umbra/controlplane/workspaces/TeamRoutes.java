package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import dev.umbra.kit.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;

/** Teams: named groups of members within a workspace (admin manages, everyone reads). */
public final class TeamRoutes {
  private final Wiring w;

  public TeamRoutes(Wiring w) {
    this.w = w;
  }

  private static final Schema TEAM = Schema.named("Team", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("created_at", Schema.time()).build());
  private static final Schema TEAM_WITH_MEMBERS = Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("created_at", Schema.time())
      .required("member_ids", Schema.array(Schema.uuid())).build();

  public void register(ApiRoutes routes) {
    routes
        .add(HttpMethod.POST, "/v1/workspaces/{workspace_id}/teams", "Create a team (admin)", Auth.API_TOKEN, 201, WorkspaceRoutes.NAME_BODY, TEAM, Handlers.json(201, this::create))
        .add(HttpMethod.GET, "/v1/workspaces/{workspace_id}/teams", "List teams", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.page(TEAM), Handlers.json(200, this::list))
        .add(HttpMethod.GET, "/v1/workspaces/{workspace_id}/teams/{team_id}", "Get a team with its members", Auth.API_TOKEN, 200, Schema.NO_BODY, TEAM_WITH_MEMBERS, Handlers.json(200, this::get))
        .add(HttpMethod.DELETE, "/v1/workspaces/{workspace_id}/teams/{team_id}", "Delete a team (admin)", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::delete))
        .add(HttpMethod.PUT, "/v1/workspaces/{workspace_id}/teams/{team_id}/members/{member_id}", "Add a member to a team (admin)", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::addMember))
        .add(HttpMethod.DELETE, "/v1/workspaces/{workspace_id}/teams/{team_id}/members/{member_id}", "Remove a member from a team (admin)", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::removeMember));
  }

  private static JsonObject json(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("name", r.getString("name"))
        .put("created_at", r.getOffsetDateTime("created_at").toString());
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("INSERT INTO teams (workspace_id, id, name, created_at) VALUES ($1,$2,$3,$4) "
                    + "ON CONFLICT (workspace_id, name) DO NOTHING RETURNING *")
                .execute(Tuple.of(wid, w.ids().next(), name, w.now()))
                .compose(rows -> rows.size() == 0
                    ? Future.failedFuture(new ApiException(409, "conflict", "a team with that name exists", "name"))
                    : Future.succeededFuture(json(rows.iterator().next())))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.TEAM_CREATED, "team:" + j.getString("id"), Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) ->
            conn.preparedQuery("SELECT * FROM teams WHERE id > $1 ORDER BY id LIMIT $2").execute(Tuple.of(page.after(), page.fetch()))))
        .map(rows -> page.render(WorkspaceRoutes.list(rows), r -> r.getUUID("id"), TeamRoutes::json));
  }

  private static Future<Row> team(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM teams WHERE id = $1").execute(Tuple.of(id))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("team")) : Future.succeededFuture(rows.iterator().next()));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) ->
            team(conn, tid).compose(t -> conn.preparedQuery("SELECT member_id FROM team_members WHERE team_id = $1 ORDER BY member_id")
                .execute(Tuple.of(tid))
                .map(rows -> {
                  JsonArray members = new JsonArray();
                  rows.forEach(r -> members.add(r.getUUID("member_id").toString()));
                  return json(t).put("member_ids", members);
                }))));
  }

  private Future<Void> delete(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("DELETE FROM teams WHERE id = $1").execute(Tuple.of(tid))
                .compose(r -> r.rowCount() == 0 ? Future.<Void>failedFuture(ApiException.notFound("team")) : Future.<Void>succeededFuture())
                .onSuccess(v -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.TEAM_DELETED, "team:" + tid, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<Void> addMember(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            team(conn, tid)
                .compose(t -> conn.preparedQuery("SELECT id FROM members WHERE id = $1").execute(Tuple.of(mid)))
                .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("member"))
                    : conn.preparedQuery("INSERT INTO team_members (workspace_id, team_id, member_id) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING")
                        .execute(Tuple.of(wid, tid, mid)))
                .<Void>mapEmpty()
                .onSuccess(v -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.TEAM_MEMBER_ADDED, "member:" + mid, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<Void> removeMember(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("DELETE FROM team_members WHERE team_id = $1 AND member_id = $2").execute(Tuple.of(tid, mid))
                .compose(r -> r.rowCount() == 0 ? Future.<Void>failedFuture(ApiException.notFound("team member")) : Future.<Void>succeededFuture())
                .onSuccess(v -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.TEAM_MEMBER_REMOVED, "member:" + mid, Outcome.OUTCOME_SUCCESS))));
  }
}
