package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.Optional;
import java.util.UUID;

/**
 * Workspaces, members and session tokens: HTTP only. {@link WorkspaceService} decides, {@link
 * WorkspaceStore} holds the SQL (docs/control-plane.md, Code layout).
 */
public final class WorkspaceRoutes {
  private final Authenticator auth;
  private final WorkspaceService workspaces;

  WorkspaceRoutes(Authenticator auth, WorkspaceService workspaces) {
    this.auth = auth;
    this.workspaces = workspaces;
  }

  /** The feature wired by hand with only what it uses. */
  public static WorkspaceRoutes wire(
      Authenticator auth,
      Database db,
      Tenancy tenancy,
      AuditTrail audit,
      RevocationNotices revocations,
      SessionIssuer issuer,
      Ids ids,
      Clock clock) {
    return new WorkspaceRoutes(
        auth,
        new WorkspaceService(
            db, tenancy, new WorkspaceStore(), audit, revocations, issuer, ids, clock));
  }

  static final Schema ROLE = Schema.oneOf("owner", "admin", "member", "viewer");
  static final Schema NAME_BODY =
      Schema.object().required("name", Schema.string(1, Requests.MAX_NAME)).build();

  /**
   * A workspace as {@code POST /v1/workspaces} and bootstrap answer it (with the caller's role).
   */
  public static final Schema WORKSPACE_CREATED =
      Schema.named(
          "WorkspaceCreated",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("created_at", Schema.time())
              .required("role", ROLE)
              .build());

  private static final Schema WORKSPACE_ITEM =
      Schema.named(
          "WorkspaceItem",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("created_at", Schema.time())
              .build());
  private static final Schema WORKSPACE =
      Schema.named(
          "Workspace",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("created_at", Schema.time())
              .required("role", ROLE.describe("the caller's role"))
              .required("member_id", Schema.uuid().describe("the caller's member id"))
              .build());
  static final Schema MEMBER =
      Schema.named(
          "Member",
          Schema.object()
              .required("id", Schema.uuid())
              .required("account_id", Schema.uuid())
              .required("name", Schema.string())
              .required("role", ROLE)
              .required("created_at", Schema.time())
              .build());
  private static final Schema ME =
      Schema.object()
          .required("account_id", Schema.uuid())
          .required("name", Schema.string())
          .required("token_id", Schema.uuid())
          .required("scope", Schema.oneOf("full", "read"))
          .build();
  private static final Schema SESSION_REQUEST =
      Schema.object()
          .required("workspace_id", Schema.uuid())
          .required(
              "audience",
              Schema.oneOf(SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new)))
          .optional(
              "device_id",
              Schema.uuid()
                  .describe(
                      "a trusted device of the caller: the token then names it (did) and its keyset version (ksv)"))
          .build();
  private static final Schema SESSION =
      Schema.object()
          .required(
              "token",
              Schema.string()
                  .describe("a JWT (EdDSA) for the audience; send it as Authorization: Bearer"))
          .required("audience", Schema.string())
          .required("workspace_id", Schema.uuid())
          .required("role", ROLE)
          .required("expires_at", Schema.time())
          .build();

  public void register(ApiRoutes routes) {
    registerWorkspaces(routes);
    registerMembers(routes);
  }

  /** The caller's account and workspaces. */
  private void registerWorkspaces(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.ME,
            "The caller's account",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            ME,
            Handlers.json(200, this::me))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.WORKSPACES,
            "Create a workspace (the caller becomes its owner)",
            Auth.API_TOKEN,
            201,
            NAME_BODY,
            WORKSPACE_CREATED,
            Handlers.json(201, this::create))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.WORKSPACES,
            "List the caller's workspaces",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(WORKSPACE_ITEM),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.WORKSPACE,
            "Get a workspace",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            WORKSPACE,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.PATCH,
            ControlPlanePaths.WORKSPACE,
            "Rename a workspace (admin)",
            Auth.API_TOKEN,
            200,
            NAME_BODY,
            WORKSPACE,
            Handlers.json(200, this::rename));
  }

  /** A workspace's members, and the session tokens a member is issued. */
  private void registerMembers(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.MEMBERS,
            "List members",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(MEMBER),
            Handlers.json(200, this::members))
        .add(
            HttpMethod.PATCH,
            ControlPlanePaths.MEMBER,
            "Change a member's role (admin; owner for owners)",
            Auth.API_TOKEN,
            200,
            Schema.object().required("role", ROLE).build(),
            MEMBER,
            Handlers.json(200, this::changeRole))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.MEMBER,
            "Remove a member (admin; owner for owners)",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::remove))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.SESSIONS,
            "Issue a short-lived session token for one service",
            Auth.API_TOKEN,
            201,
            SESSION_REQUEST,
            SESSION,
            Handlers.json(201, this::session));
  }

  private Future<JsonObject> me(RoutingContext ctx) {
    return auth.authenticate(ctx, false)
        .compose(
            p ->
                workspaces
                    .accountName(p)
                    .map(
                        name ->
                            new JsonObject()
                                .put("account_id", p.accountId().toString())
                                .put("name", name)
                                .put("token_id", p.tokenId().toString())
                                .put("scope", p.scope().wire())));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return auth.as(ctx, true, c -> workspaces.create(c, name)).map(WorkspaceRoutes::created);
  }

  /** A workspace just made, as {@link #WORKSPACE_CREATED} (bootstrap answers it too). */
  public static JsonObject created(Workspace.Created c) {
    return new JsonObject()
        .put("id", c.workspace().id().toString())
        .put("name", c.workspace().name())
        .put("created_at", c.workspace().createdAt().toString())
        .put("role", c.role().wire());
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    Page page = Page.of(ctx);
    return auth.as(ctx, false, c -> workspaces.workspacesOf(c, page.after(), page.fetch()))
        .map(
            list ->
                page.render(
                    list,
                    Workspace::id,
                    w ->
                        new JsonObject()
                            .put("id", w.id().toString())
                            .put("name", w.name())
                            .put("created_at", w.createdAt().toString())));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.as(ctx, false, c -> workspaces.get(c, wid)).map(WorkspaceRoutes::json);
  }

  private Future<JsonObject> rename(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return auth.as(ctx, true, c -> workspaces.rename(c, wid, name)).map(WorkspaceRoutes::json);
  }

  private static JsonObject json(Workspace.Seen s) {
    return new JsonObject()
        .put("id", s.membership().workspaceId().toString())
        .put("name", s.workspace().name())
        .put("created_at", s.workspace().createdAt().toString())
        .put("role", s.membership().role().wire())
        .put("member_id", s.membership().memberId().toString());
  }

  static JsonObject json(Member m) {
    return new JsonObject()
        .put("id", m.id().toString())
        .put("account_id", m.accountId().toString())
        .put("name", m.name())
        .put("role", m.role().wire())
        .put("created_at", m.createdAt().toString());
  }

  private Future<JsonObject> members(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return auth.as(ctx, false, c -> workspaces.members(c, wid, page.after(), page.fetch()))
        .map(list -> page.render(list, Member::id, WorkspaceRoutes::json));
  }

  private Future<JsonObject> changeRole(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    Role role =
        Role.parse(
                Requests.oneOf(
                    Requests.body(ctx, "role"), "role", null, "owner", "admin", "member", "viewer"))
            .orElseThrow();
    return auth.as(ctx, true, c -> workspaces.changeRole(c, wid, mid, role))
        .map(WorkspaceRoutes::json);
  }

  private Future<Void> remove(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    return auth.as(ctx, true, c -> workspaces.remove(c, wid, mid));
  }

  /**
   * A member's session token for one service; the body is read once the caller is authenticated.
   */
  private Future<JsonObject> session(RoutingContext ctx) {
    return auth.as(
        ctx,
        false,
        c -> {
          JsonObject body = Requests.body(ctx, "workspace_id", "audience", "device_id");
          UUID wid = Requests.uuid(Requests.string(body, "workspace_id", 36, 36), "workspace_id");
          String audience =
              Requests.oneOf(
                  body,
                  "audience",
                  null,
                  SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new));
          Optional<UUID> device =
              Requests.optionalString(body, "device_id", 36, 36)
                  .map(d -> Requests.uuid(d, "device_id"));
          return workspaces
              .session(c, wid, audience, device)
              .map(
                  s ->
                      new JsonObject()
                          .put("token", s.issued().token())
                          .put("audience", audience)
                          .put("workspace_id", wid.toString())
                          .put("role", s.role().wire())
                          .put("expires_at", s.issued().expiresAt().toString()));
        });
  }
}
