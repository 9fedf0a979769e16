package dev.umbra.controlplane.tokens;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * {@code /v1/tokens}: the caller's own API tokens (create shows the token once, list, revoke). HTTP
 * only: {@link TokenService} decides, {@link TokenStore} mints and holds the SQL.
 */
public final class TokenRoutes {
  private final Authenticator auth;
  private final TokenService tokens;

  TokenRoutes(Authenticator auth, TokenService tokens) {
    this.auth = auth;
    this.tokens = tokens;
  }

  /** The feature wired by hand with only what it uses. */
  public static TokenRoutes wire(
      Authenticator auth,
      Database db,
      TokenStore store,
      AuditTrail audit,
      RevocationNotices revocations,
      Ids ids,
      Clock clock) {
    return new TokenRoutes(auth, new TokenService(db, store, audit, revocations, ids, clock));
  }

  /**
   * A new API token as {@link #issued} renders it (bootstrap and invitations too): the secret is
   * shown once.
   */
  public static final Schema TOKEN_CREATED =
      Schema.named(
          "ApiTokenCreated",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("scope", Schema.oneOf("full", "read"))
              .required("created_at", Schema.time())
              .required("token", Schema.string().describe("umb_...; shown once"))
              .build());

  private static final Schema TOKEN =
      Schema.named(
          "ApiToken",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("scope", Schema.oneOf("full", "read"))
              .required("created_at", Schema.time())
              .required("last_used_at", Schema.nullable(Schema.time()))
              .required("revoked_at", Schema.nullable(Schema.time()))
              .build());

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.TOKENS,
            "Create an API token (shown once)",
            Auth.API_TOKEN,
            201,
            Schema.object()
                .required("name", Schema.string(1, Requests.MAX_NAME))
                .optional("scope", Schema.oneOf("full", "read").describe("default full"))
                .build(),
            TOKEN_CREATED,
            Handlers.json(201, this::create))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.TOKENS,
            "List the caller's API tokens",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(TOKEN),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.TOKEN,
            "Revoke an API token",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::revoke));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "name", "scope");
    String name = Requests.name(body, "name");
    TokenScope scope =
        TokenScope.parse(Requests.oneOf(body, "scope", "full", "full", "read")).orElseThrow();
    return auth.authenticate(ctx, true)
        .compose(p -> tokens.create(Caller.of(ctx, p), name, scope))
        .map(TokenRoutes::issued);
  }

  /**
   * A new token as {@link #TOKEN_CREATED}, with its secret (bootstrap and invitations answer it
   * too).
   */
  public static JsonObject issued(IssuedToken t) {
    return new JsonObject()
        .put("id", t.id().toString())
        .put("name", t.name())
        .put("scope", t.scope().wire())
        .put("created_at", t.createdAt().toString())
        .put("token", t.token());
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    Page page = Page.of(ctx);
    return auth.authenticate(ctx, false)
        .compose(p -> tokens.page(Caller.of(ctx, p), page.after(), page.fetch()))
        .map(list -> page.render(list, ApiToken::id, TokenRoutes::json));
  }

  static JsonObject json(ApiToken t) {
    return new JsonObject()
        .put("id", t.id().toString())
        .put("name", t.name())
        .put("scope", t.scope())
        .put("created_at", str(t.createdAt()))
        .put("last_used_at", str(t.lastUsedAt()))
        .put("revoked_at", str(t.revokedAt()));
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }

  private Future<Void> revoke(RoutingContext ctx) {
    UUID id = Requests.uuidParam(ctx, "token_id");
    return auth.authenticate(ctx, true).compose(p -> tokens.revoke(Caller.of(ctx, p), id));
  }
}
