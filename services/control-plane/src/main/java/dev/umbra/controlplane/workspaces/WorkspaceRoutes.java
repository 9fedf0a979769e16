package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.auth.Principal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Workspaces, members and session tokens. */
public final class WorkspaceRoutes {
  private final Wiring w;

  public WorkspaceRoutes(Wiring w) {
    this.w = w;
  }

  static final Schema ROLE = Schema.oneOf("owner", "admin", "member", "viewer");
  static final Schema NAME_BODY = Schema.object().required("name", Schema.string(1, Requests.MAX_NAME)).build();
  /** A workspace as {@code POST /v1/workspaces} and bootstrap answer it (with the caller's role). */
  public static final Schema WORKSPACE_CREATED = Schema.named("WorkspaceCreated", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("created_at", Schema.time()).required("role", ROLE).build());
  private static final Schema WORKSPACE_ITEM = Schema.named("WorkspaceItem", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("created_at", Schema.time()).build());
  private static final Schema WORKSPACE = Schema.named("Workspace", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("created_at", Schema.time())
      .required("role", ROLE.describe("the caller's role")).required("member_id", Schema.uuid().describe("the caller's member id")).build());
  static final Schema MEMBER = Schema.named("Member", Schema.object()
      .required("id", Schema.uuid()).required("account_id", Schema.uuid()).required("name", Schema.string())
      .required("role", ROLE).required("created_at", Schema.time()).build());
  private static final Schema ME = Schema.object()
      .required("account_id", Schema.uuid()).required("name", Schema.string()).required("token_id", Schema.uuid())
      .required("scope", Schema.oneOf("full", "read")).build();
  private static final Schema SESSION_REQUEST = Schema.object()
      .required("workspace_id", Schema.uuid())
      .required("audience", Schema.oneOf(SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new)))
      .optional("device_id", Schema.uuid().describe("a trusted device of the caller: the token then names it (did) and its keyset version (ksv)"))
      .build();
  private static final Schema SESSION = Schema.object()
      .required("token", Schema.string().describe("a JWT (EdDSA) for the audience; send it as Authorization: Bearer"))
      .required("audience", Schema.string()).required("workspace_id", Schema.uuid()).required("role", ROLE)
      .required("expires_at", Schema.time()).build();

  public void register(ApiRoutes routes) {
    routes
        .add(HttpMethod.GET, "/v1/me", "The caller's account", Auth.API_TOKEN, 200, Schema.NO_BODY, ME, Handlers.json(200, this::me))
        .add(HttpMethod.POST, "/v1/workspaces", "Create a workspace (the caller becomes its owner)", Auth.API_TOKEN, 201, NAME_BODY, WORKSPACE_CREATED, Handlers.json(201, this::create))
        .add(HttpMethod.GET, "/v1/workspaces", "List the caller's workspaces", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.page(WORKSPACE_ITEM), Handlers.json(200, this::list))
        .add(HttpMethod.GET, "/v1/workspaces/{workspace_id}", "Get a workspace", Auth.API_TOKEN, 200, Schema.NO_BODY, WORKSPACE, Handlers.json(200, this::get))
        .add(HttpMethod.PATCH, "/v1/workspaces/{workspace_id}", "Rename a workspace (admin)", Auth.API_TOKEN, 200, NAME_BODY, WORKSPACE, Handlers.json(200, this::rename))
        .add(HttpMethod.GET, "/v1/workspaces/{workspace_id}/members", "List members", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.page(MEMBER), Handlers.json(200, this::members))
        .add(HttpMethod.PATCH, "/v1/workspaces/{workspace_id}/members/{member_id}", "Change a member's role (admin; owner for owners)", Auth.API_TOKEN, 200,
            Schema.object().required("role", ROLE).build(), MEMBER, Handlers.json(200, this::changeRole))
        .add(HttpMethod.DELETE, "/v1/workspaces/{workspace_id}/members/{member_id}", "Remove a member (admin; owner for owners)", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::remove))
        .add(HttpMethod.POST, "/v1/sessions", "Issue a short-lived session token for one service", Auth.API_TOKEN, 201, SESSION_REQUEST, SESSION, Handlers.json(201, this::session));
  }

  private Future<JsonObject> me(RoutingContext ctx) {
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.db().withTransaction(conn -> conn.preparedQuery("SELECT name FROM accounts WHERE id = $1")
            .execute(Tuple.of(p.accountId())))
            .map(rows -> new JsonObject()
                .put("account_id", p.accountId().toString())
                .put("name", rows.iterator().next().getString("name"))
                .put("token_id", p.tokenId().toString())
                .put("scope", p.scope().wire())));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.db().withTransaction(conn -> Workspaces.create(conn, w.ids(), w.ids().next(), name, p.accountId(), Role.OWNER, w.now()))
            .onSuccess(j -> w.audit(ctx, UUID.fromString(j.getString("id")), ActorKind.ACTOR_KIND_MEMBER, p.accountId(),
                AuditAction.WORKSPACE_CREATED, "workspace:" + j.getString("id"), Outcome.OUTCOME_SUCCESS)));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    Page page = Page.of(ctx);
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.db().withTransaction(conn -> conn
            .preparedQuery("SELECT set_config('umbra.account_id', $1, true)").execute(Tuple.of(p.accountId().toString()))
            .compose(x -> conn.preparedQuery(
                    "SELECT w.id, w.name, w.created_at FROM account_workspaces a JOIN workspaces w ON w.id = a.workspace_id "
                        + "WHERE a.account_id = $1 AND w.id > $2 ORDER BY w.id LIMIT $3")
                .execute(Tuple.of(p.accountId(), page.after(), page.fetch())))))
        .map(rows -> page.render(list(rows), r -> r.getUUID("id"), r -> new JsonObject()
            .put("id", r.getUUID("id").toString())
            .put("name", r.getString("name"))
            .put("created_at", r.getOffsetDateTime("created_at").toString())));
  }

  static List<Row> list(RowSet<Row> rows) {
    List<Row> out = new ArrayList<>();
    rows.forEach(out::add);
    return out;
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) -> workspaceJson(conn, m)));
  }

  private static Future<JsonObject> workspaceJson(io.vertx.sqlclient.SqlConnection conn, Membership m) {
    return conn.preparedQuery("SELECT name, created_at FROM workspaces WHERE id = $1").execute(Tuple.of(m.workspaceId()))
        .map(rows -> {
          Row r = rows.iterator().next();
          return new JsonObject()
              .put("id", m.workspaceId().toString())
              .put("name", r.getString("name"))
              .put("created_at", r.getOffsetDateTime("created_at").toString())
              .put("role", m.role().wire())
              .put("member_id", m.memberId().toString());
        });
  }

  private Future<JsonObject> rename(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("UPDATE workspaces SET name = $2 WHERE id = $1").execute(Tuple.of(wid, name))
                .compose(r -> workspaceJson(conn, m))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.WORKSPACE_UPDATED, "workspace:" + wid, Outcome.OUTCOME_SUCCESS))));
  }

  static JsonObject memberJson(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("account_id", r.getUUID("account_id").toString())
        .put("name", r.getString("name"))
        .put("role", r.getString("role"))
        .put("created_at", r.getOffsetDateTime("created_at").toString());
  }

  private static final String MEMBER_SELECT =
      "SELECT m.id, m.account_id, a.name, m.role, m.created_at FROM members m JOIN accounts a ON a.id = m.account_id ";

  private Future<JsonObject> members(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) ->
            conn.preparedQuery(MEMBER_SELECT + "WHERE m.id > $1 ORDER BY m.id LIMIT $2").execute(Tuple.of(page.after(), page.fetch()))))
        .map(rows -> page.render(list(rows), r -> r.getUUID("id"), WorkspaceRoutes::memberJson));
  }

  /** The target member (404 when not in this workspace) after checking the caller may manage them. */
  private static Future<Row> manageable(io.vertx.sqlclient.SqlConnection conn, Membership caller, UUID memberId) {
    return conn.preparedQuery(MEMBER_SELECT + "WHERE m.id = $1 FOR UPDATE OF m").execute(Tuple.of(memberId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(ApiException.notFound("member"));
          }
          Row r = rows.iterator().next();
          if (Role.parse(r.getString("role")).orElseThrow() == Role.OWNER && caller.role() != Role.OWNER) {
            return Future.failedFuture(ApiException.forbidden("only an owner may change or remove an owner"));
          }
          return Future.succeededFuture(r);
        });
  }

  private static Future<Void> keepAnOwner(io.vertx.sqlclient.SqlConnection conn, Row target) {
    if (!"owner".equals(target.getString("role"))) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery("SELECT count(*) AS n FROM members WHERE role = 'owner'").execute()
        .compose(rows -> rows.iterator().next().getLong("n") <= 1
            ? Future.failedFuture(ApiException.conflict("a workspace keeps at least one owner"))
            : Future.succeededFuture());
  }

  private Future<JsonObject> changeRole(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    Role role = Role.parse(Requests.oneOf(Requests.body(ctx, "role"), "role", null, "owner", "admin", "member", "viewer")).orElseThrow();
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) -> {
          if (role == Role.OWNER && m.role() != Role.OWNER) {
            return Future.failedFuture(ApiException.forbidden("only an owner may make an owner"));
          }
          return manageable(conn, m, mid)
              .compose(target -> (role == Role.OWNER ? Future.<Void>succeededFuture() : keepAnOwner(conn, target))
                  .compose(v -> conn.preparedQuery("UPDATE members SET role = $2 WHERE id = $1").execute(Tuple.of(mid, role.wire())))
                  .compose(r -> conn.preparedQuery(MEMBER_SELECT + "WHERE m.id = $1").execute(Tuple.of(mid)))
                  .map(rows -> memberJson(rows.iterator().next())))
              .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.MEMBER_ROLE_CHANGED,
                  "member:" + mid, Outcome.OUTCOME_SUCCESS));
        }));
  }

  private Future<Void> remove(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "member_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            manageable(conn, m, mid)
                .compose(target -> keepAnOwner(conn, target)
                    .compose(v -> conn.preparedQuery("DELETE FROM account_workspaces WHERE account_id = $1 AND workspace_id = $2")
                        .execute(Tuple.of(target.getUUID("account_id"), wid)))
                    .compose(v -> conn.preparedQuery("DELETE FROM members WHERE id = $1").execute(Tuple.of(mid)))
                    .map(v -> target.getUUID("account_id"))))
            // committed: the account's sessions in the workspace are void (sessions carry the account, not the member id)
            .onSuccess(account -> {
              w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.MEMBER_REMOVED, "member:" + mid, Outcome.OUTCOME_SUCCESS);
              w.revoked(RevokedKind.REVOKED_KIND_MEMBER, wid, mid.toString(), account);
            })
            .mapEmpty());
  }

  /**
   * Issues a member's session token. It names the API token of the request ({@code tid}) and, when
   * {@code device_id} names a trusted device of the caller in this workspace, that device and its
   * credential's keyset version ({@code did}, {@code ksv}), so revoking the device or rotating the
   * keyset past that version voids it too (docs/device-trust.md).
   */
  private Future<JsonObject> session(RoutingContext ctx) {
    return w.auth().authenticate(ctx, false).compose(p -> {
      JsonObject body = Requests.body(ctx, "workspace_id", "audience", "device_id");
      UUID wid = Requests.uuid(Requests.string(body, "workspace_id", 36, 36), "workspace_id");
      String audience = Requests.oneOf(body, "audience", null, SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new));
      Optional<UUID> device = Requests.optionalString(body, "device_id", 36, 36).map(d -> Requests.uuid(d, "device_id"));
      return w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) -> boundDevice(conn, p, device).map(with -> {
        SessionIssuer.Issued t = w.issuer().issue(wid, p.accountId().toString(), SubjectKind.MEMBER, m.role(), audience, with);
        w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.SESSION_ISSUED, "audience:" + audience, Outcome.OUTCOME_SUCCESS);
        return new JsonObject()
            .put("token", t.token())
            .put("audience", audience)
            .put("workspace_id", wid.toString())
            .put("role", m.role().wire())
            .put("expires_at", t.expiresAt().toString());
      }));
    });
  }

  private static Future<SessionIssuer.MintedWith> boundDevice(io.vertx.sqlclient.SqlConnection conn, Principal p, Optional<UUID> device) {
    if (device.isEmpty()) {
      return Future.succeededFuture(new SessionIssuer.MintedWith(p.tokenId(), null, 0));
    }
    return conn.preparedQuery("SELECT account_id, status, keyset_version FROM devices WHERE id = $1").execute(Tuple.of(device.get()))
        .compose(rows -> {
          Row r = rows.size() == 0 ? null : rows.iterator().next();
          if (r == null || !p.accountId().equals(r.getUUID("account_id")) || !"trusted".equals(r.getString("status"))
              || r.getInteger("keyset_version") == null) {
            return Future.failedFuture(ApiException.forbidden("device_id is not a trusted device of yours in this workspace"));
          }
          return Future.succeededFuture(new SessionIssuer.MintedWith(p.tokenId(), device.get(), r.getInteger("keyset_version")));
        });
  }
}
