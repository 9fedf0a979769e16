package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.UUID;

/**
 * Teams of a workspace: HTTP only. {@link TeamService} decides, {@link TeamStore} holds the SQL.
 */
public final class TeamRoutes {
  private final Authenticator auth;
  private final TeamService teams;

  TeamRoutes(Authenticator auth, TeamService teams) {
    this.auth = auth;
    this.teams = teams;
  }

  /** The feature wired by hand with only what it uses. */
  public static TeamRoutes wire(
      Authenticator auth, Tenancy tenancy, AuditTrail audit, Ids ids, Clock clock) {
    return new TeamRoutes(auth, new TeamService(tenancy, new TeamStore(), audit, ids, clock));
  }

  private static final Schema TEAM =
      Schema.named(
          "Team",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("created_at", Schema.time())
              .build());
  private static final Schema TEAM_WITH_MEMBERS =
      Schema.object()
          .required("id", Schema.uuid())
          .required("name", Schema.string())
          .required("created_at", Schema.time())
          .required("member_ids", Schema.array(Schema.uuid()))
          .build();

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.TEAMS,
            "Create a team (admin)",
            Auth.API_TOKEN,
            201,
            WorkspaceRoutes.NAME_BODY,
            TEAM,
            Handlers.json(201, this::create))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.TEAMS,
            "List teams",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(TEAM),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.TEAM,
            "Get a team with its members",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            TEAM_WITH_MEMBERS,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.TEAM,
            "Delete a team (admin)",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::delete))
        .add(
            HttpMethod.PUT,
            ControlPlanePaths.TEAM_MEMBER,
            "Add a member to a team (admin)",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::addMember))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.TEAM_MEMBER,
            "Remove a member from a team (admin)",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::removeMember));
  }

  private static JsonObject json(Team t) {
    return new JsonObject()
        .put("id", t.id().toString())
        .put("name", t.name())
        .put("created_at", t.createdAt().toString());
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return auth.as(ctx, true, c -> teams.create(c, wid, name)).map(TeamRoutes::json);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return auth.as(ctx, false, c -> teams.page(c, wid, page.after(), page.fetch()))
        .map(list -> page.render(list, Team::id, TeamRoutes::json));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    return auth.as(ctx, false, c -> teams.get(c, wid, tid))
        .map(
            t -> {
              JsonArray members = new JsonArray();
              t.memberIds().forEach(id -> members.add(id.toString()));
              return json(t.team()).put("member_ids", members);
            });
  }

  private Future<Void> delete(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    return auth.as(ctx, true, c -> teams.delete(c, wid, tid));
  }

  private Future<Void> addMember(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    return auth.as(ctx, true, c -> teams.addMember(c, wid, tid, mid));
  }

  private Future<Void> removeMember(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID tid = Requests.uuidParam(ctx, "team_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    return auth.as(ctx, true, c -> teams.removeMember(c, wid, tid, mid));
  }
}
