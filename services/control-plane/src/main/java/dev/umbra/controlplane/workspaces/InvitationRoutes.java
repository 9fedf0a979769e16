package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.auth.Principal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.tokens.TokenRoutes;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.UUID;

/**
 * Invitations: HTTP only. {@link InvitationService} decides (who invites, what redeeming one does),
 * {@link InvitationStore} holds the SQL.
 */
public final class InvitationRoutes {
  private final Authenticator auth;
  private final InvitationService invitations;

  InvitationRoutes(Authenticator auth, InvitationService invitations) {
    this.auth = auth;
    this.invitations = invitations;
  }

  /** The feature wired by hand with only what it uses. */
  public static InvitationRoutes wire(
      Authenticator auth,
      Database db,
      Tenancy tenancy,
      TokenStore tokens,
      FailureLimiter limiter,
      AuditTrail audit,
      Ids ids,
      Clock clock) {
    return new InvitationRoutes(
        auth,
        new InvitationService(
            db, tenancy, new InvitationStore(), tokens, limiter, audit, ids, clock));
  }

  private static final Schema INVITATION_FIELDS_NOTE = Schema.string(0, 200);
  private static final Schema INVITATION = Schema.named("Invitation", invitation(false));
  private static final Schema INVITATION_CREATED = invitation(true);
  private static final Schema ACCEPTED =
      Schema.object()
          .required("account_id", Schema.uuid())
          .required("member_id", Schema.uuid())
          .required("role", WorkspaceRoutes.ROLE)
          .required(
              "workspace",
              Schema.object()
                  .required("id", Schema.uuid())
                  .required("name", Schema.string())
                  .build())
          .optional(
              "api_token",
              TokenRoutes.TOKEN_CREATED.describe(
                  "only when the invitation made a new account (no Authorization)"))
          .build();

  private static Schema invitation(boolean withToken) {
    Schema.ObjectBuilder b =
        Schema.object()
            .required("id", Schema.uuid())
            .required("role", WorkspaceRoutes.ROLE)
            .required("note", INVITATION_FIELDS_NOTE)
            .required("created_at", Schema.time())
            .required("expires_at", Schema.time())
            .required("status", Schema.oneOf("pending", "accepted", "cancelled"));
    if (withToken) {
      b.required("token", Schema.string().describe("umi_...; shown once, give it to the invitee"));
    }
    return b.build();
  }

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.INVITATIONS,
            "Invite a member (admin); the token is shown once",
            Auth.API_TOKEN,
            201,
            Schema.object()
                .optional(
                    "role", Schema.oneOf("admin", "member", "viewer").describe("default member"))
                .optional("note", INVITATION_FIELDS_NOTE)
                .build(),
            INVITATION_CREATED,
            Handlers.json(201, this::create))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.INVITATIONS,
            "List invitations (admin)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(INVITATION),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.INVITATION,
            "Cancel an invitation (admin)",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::cancel))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.INVITATION_ACCEPT,
            "Accept an invitation (as a new account, or the caller's)",
            Auth.NONE,
            201,
            Schema.object()
                .required("token", Schema.string(1, 200))
                .optional(
                    "account_name",
                    Schema.string(1, Requests.MAX_NAME)
                        .describe("for a new account; default member"))
                .build(),
            ACCEPTED,
            Handlers.json(201, this::accept));
  }

  private static JsonObject json(Invitation i) {
    return new JsonObject()
        .put("id", i.id().toString())
        .put("role", i.role())
        .put("note", i.note())
        .put("created_at", i.createdAt().toString())
        .put("expires_at", i.expiresAt().toString())
        .put("status", i.status());
  }

  private static JsonObject json(Invitation.Accepted a) {
    JsonObject out =
        new JsonObject()
            .put("account_id", a.accountId().toString())
            .put("member_id", a.memberId().toString())
            .put("role", a.role().wire())
            .put(
                "workspace",
                new JsonObject()
                    .put("id", a.workspaceId().toString())
                    .put("name", a.workspaceName()));
    return a.apiToken() == null ? out : out.put("api_token", TokenRoutes.issued(a.apiToken()));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "role", "note");
    Role role =
        Role.parse(Requests.oneOf(body, "role", "member", "admin", "member", "viewer"))
            .orElseThrow();
    String note = Requests.optionalString(body, "note", 0, 200).orElse("");
    return auth.authenticate(ctx, true)
        .compose(p -> invitations.create(Caller.of(ctx, p), wid, role, note))
        .map(c -> json(c.invitation()).put("token", c.token()));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return auth.authenticate(ctx, false)
        .compose(p -> invitations.page(Caller.of(ctx, p), wid, page.after(), page.fetch()))
        .map(list -> page.render(list, Invitation::id, InvitationRoutes::json));
  }

  private Future<Void> cancel(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "invitation_id");
    return auth.authenticate(ctx, true)
        .compose(p -> invitations.cancel(Caller.of(ctx, p), wid, id));
  }

  /** As the caller's account when a bearer token comes with it, else as a new account. */
  private Future<JsonObject> accept(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "token", "account_name");
    String token = Requests.string(body, "token", 1, 200);
    String name =
        Requests.optionalString(body, "account_name", 1, Requests.MAX_NAME).orElse("member");
    String ipBucket = "ip:" + ClientAddress.of(ctx);
    String sourceIp = ClientAddress.forAudit(ctx);
    Future<Principal> caller =
        SessionAuth.bearer(ctx) == null
            ? Future.succeededFuture(null)
            : auth.authenticate(ctx, true);
    return invitations.accept(caller, sourceIp, ipBucket, token, name).map(InvitationRoutes::json);
  }
}
