package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.auth.Principal;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.crypto.secret.Blake2b256;
import dev.umbra.crypto.secret.SecureRandoms;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Invitations: an admin creates one (the {@code umi_} token is shown once and stored as its
 * BLAKE2b-256 hash); the invitee redeems it once, within 7 days, as a new account (getting an
 * API token) or, when authenticated, as their existing account.
 */
public final class InvitationRoutes {
  public static final String PREFIX = "umi_";
  public static final Duration VALIDITY = Duration.ofDays(7);
  private final Wiring w;

  public InvitationRoutes(Wiring w) {
    this.w = w;
  }

  private static final Schema INVITATION_FIELDS_NOTE = Schema.string(0, 200);
  private static final Schema INVITATION = Schema.named("Invitation", invitation(false));
  private static final Schema INVITATION_CREATED = invitation(true);
  private static final Schema ACCEPTED = Schema.object()
      .required("account_id", Schema.uuid()).required("member_id", Schema.uuid()).required("role", WorkspaceRoutes.ROLE)
      .required("workspace", Schema.object().required("id", Schema.uuid()).required("name", Schema.string()).build())
      .optional("api_token", dev.umbra.controlplane.tokens.TokenRoutes.TOKEN_CREATED.describe("only when the invitation made a new account (no Authorization)"))
      .build();

  private static Schema invitation(boolean withToken) {
    Schema.ObjectBuilder b = Schema.object()
        .required("id", Schema.uuid()).required("role", WorkspaceRoutes.ROLE).required("note", INVITATION_FIELDS_NOTE)
        .required("created_at", Schema.time()).required("expires_at", Schema.time())
        .required("status", Schema.oneOf("pending", "accepted", "cancelled"));
    if (withToken) {
      b.required("token", Schema.string().describe("umi_...; shown once, give it to the invitee"));
    }
    return b.build();
  }

  public void register(ApiRoutes routes) {
    routes
        .add(HttpMethod.POST, "/v1/workspaces/{workspace_id}/invitations", "Invite a member (admin); the token is shown once", Auth.API_TOKEN, 201,
            Schema.object().optional("role", Schema.oneOf("admin", "member", "viewer").describe("default member"))
                .optional("note", INVITATION_FIELDS_NOTE).build(),
            INVITATION_CREATED, Handlers.json(201, this::create))
        .add(HttpMethod.GET, "/v1/workspaces/{workspace_id}/invitations", "List invitations (admin)", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.page(INVITATION), Handlers.json(200, this::list))
        .add(HttpMethod.DELETE, "/v1/workspaces/{workspace_id}/invitations/{invitation_id}", "Cancel an invitation (admin)", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::cancel))
        .add(HttpMethod.POST, "/v1/invitations/accept", "Accept an invitation (as a new account, or the caller's)", Auth.NONE, 201,
            Schema.object().required("token", Schema.string(1, 200)).optional("account_name", Schema.string(1, Requests.MAX_NAME).describe("for a new account; default member")).build(),
            ACCEPTED, Handlers.json(201, this::accept));
  }

  private static JsonObject json(Row r) {
    OffsetDateTime accepted = r.getOffsetDateTime("accepted_at");
    OffsetDateTime cancelled = r.getOffsetDateTime("cancelled_at");
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("role", r.getString("role"))
        .put("note", r.getString("note"))
        .put("created_at", r.getOffsetDateTime("created_at").toString())
        .put("expires_at", r.getOffsetDateTime("expires_at").toString())
        .put("status", accepted != null ? "accepted" : cancelled != null ? "cancelled" : "pending");
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "role", "note");
    String role = Requests.oneOf(body, "role", "member", "admin", "member", "viewer");
    String note = Requests.optionalString(body, "note", 0, 200).orElse("");
    String token = PREFIX + SecureRandoms.urlSafeToken(32);
    byte[] hash = Blake2b256.hash(token.getBytes(StandardCharsets.US_ASCII));
    UUID id = w.ids().next();
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("INSERT INTO invitations (workspace_id, id, token_hash, role, note, created_by, created_at, expires_at) "
                    + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *")
                .execute(Tuple.from(new Object[] {wid, id, Buffer.buffer(hash), role, note, m.memberId(), w.now(), w.now().plus(VALIDITY)}))
                .map(rows -> json(rows.iterator().next()).put("token", token))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.MEMBER_INVITED, "invitation:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("SELECT * FROM invitations WHERE id > $1 ORDER BY id LIMIT $2").execute(Tuple.of(page.after(), page.fetch()))))
        .map(rows -> page.render(WorkspaceRoutes.list(rows), r -> r.getUUID("id"), InvitationRoutes::json));
  }

  private Future<Void> cancel(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "invitation_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("UPDATE invitations SET cancelled_at = coalesce(cancelled_at, $2) WHERE id = $1 AND workspace_id = $3")
                .execute(Tuple.of(id, w.now(), wid))
                .compose(r -> r.rowCount() == 0 ? Future.<Void>failedFuture(ApiException.notFound("invitation")) : Future.<Void>succeededFuture())
                .onSuccess(v -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.INVITE_REVOKED, "invitation:" + id, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<JsonObject> accept(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "token", "account_name");
    String token = Requests.string(body, "token", 1, 200);
    String name = Requests.optionalString(body, "account_name", 1, Requests.MAX_NAME).orElse("member");
    String ip = "ip:" + ClientAddress.of(ctx);
    String hashHex = HexFormat.of().formatHex(Blake2b256.hash(token.getBytes(StandardCharsets.UTF_8)));
    Future<Principal> caller = SessionAuth.bearer(ctx) == null ? Future.succeededFuture(null) : w.auth().authenticate(ctx, true);
    return w.limiter().guard("too many failed attempts; try again later",
        e -> e instanceof ApiException api && "invalid_invitation".equals(api.code()),
        () -> caller
        .compose(p -> (p == null ? w.tokens().mint() : Future.<TokenStore.Minted>succeededFuture(null))
            .compose(minted -> w.db().withTransaction(conn -> conn
                .preparedQuery("SELECT set_config('umbra.invite_token_hash', $1, true)").execute(Tuple.of(hashHex))
                .compose(x -> conn.preparedQuery("SELECT workspace_id, id, role FROM invitations WHERE token_hash = decode($1, 'hex') "
                    + "AND accepted_at IS NULL AND cancelled_at IS NULL AND expires_at > $2 FOR UPDATE").execute(Tuple.of(hashHex, w.now())))
                .compose(rows -> {
                  if (rows.size() == 0) {
                    return Future.failedFuture(new ApiException(404, "invalid_invitation", "invitation is invalid, used, cancelled or expired"));
                  }
                  Row inv = rows.iterator().next();
                  UUID wid = inv.getUUID("workspace_id");
                  UUID account = p == null ? w.ids().next() : p.accountId();
                  UUID member = w.ids().next();
                  Role role = Role.parse(inv.getString("role")).orElseThrow();
                  Future<Void> acct = p == null ? Workspaces.createAccount(conn, account, name, w.now()) : Future.succeededFuture();
                  return acct
                      .compose(v -> Tenancy.enter(conn, wid))
                      .compose(v -> Tenancy.membership(conn, wid, account))
                      .compose(existing -> existing != null
                          ? Future.failedFuture(ApiException.conflict("already a member of this workspace"))
                          : Workspaces.addMember(conn, member, wid, account, role, w.now()))
                      .compose(v -> conn.preparedQuery("UPDATE invitations SET accepted_at = $2, accepted_member = $3 WHERE id = $1")
                          .execute(Tuple.of(inv.getUUID("id"), w.now(), member)))
                      .compose(v -> conn.preparedQuery("SELECT name FROM workspaces WHERE id = $1").execute(Tuple.of(wid)))
                      .compose(ws -> {
                        JsonObject out = new JsonObject()
                            .put("account_id", account.toString())
                            .put("member_id", member.toString())
                            .put("role", role.wire())
                            .put("workspace", new JsonObject().put("id", wid.toString()).put("name", ws.iterator().next().getString("name")));
                        if (minted == null) {
                          return Future.succeededFuture(out);
                        }
                        return TokenStore.insert(conn, w.ids().next(), account, "cli (invitation)", TokenScope.FULL, minted, w.now())
                            .map(t -> out.put("api_token", t));
                      })
                      .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, account, AuditAction.MEMBER_JOINED,
                          "member:" + member, Outcome.OUTCOME_SUCCESS));
                })))), ip);
  }
}
