package dev.umbra.controlplane.tokens;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.auth.Principal;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.audit.AuditAction;
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
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@code /v1/tokens}: the caller's own API tokens (create shows the token once, list, revoke). */
public final class TokenRoutes {
  private final Wiring w;

  public TokenRoutes(Wiring w) {
    this.w = w;
  }

  /** A new API token as {@link TokenStore#insert} answers it (bootstrap and invitations too): the secret is shown once. */
  public static final Schema TOKEN_CREATED = Schema.named("ApiTokenCreated", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("scope", Schema.oneOf("full", "read"))
      .required("created_at", Schema.time()).required("token", Schema.string().describe("umb_...; shown once")).build());
  private static final Schema TOKEN = Schema.named("ApiToken", Schema.object()
      .required("id", Schema.uuid()).required("name", Schema.string()).required("scope", Schema.oneOf("full", "read"))
      .required("created_at", Schema.time()).required("last_used_at", Schema.nullable(Schema.time()))
      .required("revoked_at", Schema.nullable(Schema.time())).build());

  public void register(ApiRoutes routes) {
    routes
        .add(HttpMethod.POST, "/v1/tokens", "Create an API token (shown once)", Auth.API_TOKEN, 201,
            Schema.object().required("name", Schema.string(1, Requests.MAX_NAME)).optional("scope", Schema.oneOf("full", "read").describe("default full")).build(),
            TOKEN_CREATED, Handlers.json(201, this::create))
        .add(HttpMethod.GET, "/v1/tokens", "List the caller's API tokens", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.page(TOKEN), Handlers.json(200, this::list))
        .add(HttpMethod.DELETE, "/v1/tokens/{token_id}", "Revoke an API token", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::revoke));
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "name", "scope");
    String name = Requests.name(body, "name");
    TokenScope scope = TokenScope.parse(Requests.oneOf(body, "scope", "full", "full", "read")).orElseThrow();
    return w.auth()
        .authenticate(ctx, true)
        .compose(
            p -> w.tokens().mint().compose(m -> w.db().withTransaction(
                conn -> TokenStore.insert(conn, w.ids().next(), p.accountId(), name, scope, m, w.now())))
                .onSuccess(j -> w.audit(ctx, null, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.TOKEN_CREATED,
                    "token:" + j.getString("id"), Outcome.OUTCOME_SUCCESS)));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    Page page = Page.of(ctx);
    return w.auth()
        .authenticate(ctx, false)
        .compose(
            p -> w.db().withTransaction(
                conn -> conn.preparedQuery(
                        "SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens "
                            + "WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .execute(Tuple.of(p.accountId(), page.after(), page.fetch()))))
        .map(rows -> {
          List<Row> list = new ArrayList<>();
          rows.forEach(list::add);
          return page.render(list, r -> r.getUUID("id"), TokenRoutes::json);
        });
  }

  static JsonObject json(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("name", r.getString("name"))
        .put("scope", r.getString("scope"))
        .put("created_at", str(r.getOffsetDateTime("created_at")))
        .put("last_used_at", str(r.getOffsetDateTime("last_used_at")))
        .put("revoked_at", str(r.getOffsetDateTime("revoked_at")));
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }

  /**
   * Revokes one of the caller's API tokens. Session tokens it minted carry its id ({@code tid}):
   * once committed, a revocation naming it is published for each workspace of the account, so
   * every service refuses them and closes their connections (docs/security.md, "Revocation").
   */
  private Future<Void> revoke(RoutingContext ctx) {
    UUID id = Requests.uuidParam(ctx, "token_id");
    return w.auth()
        .authenticate(ctx, true)
        .compose(
            (Principal p) -> w.db().withTransaction(
                    conn -> conn.preparedQuery(
                            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND account_id = $2")
                        .execute(Tuple.of(id, p.accountId(), w.now()))
                        .compose(r -> r.rowCount() == 0
                            ? Future.<RowSet<Row>>failedFuture(ApiException.notFound("token"))
                            : conn.preparedQuery("SELECT set_config('umbra.account_id', $1, true)").execute(Tuple.of(p.accountId().toString()))
                                .compose(x -> conn.preparedQuery("SELECT workspace_id FROM account_workspaces WHERE account_id = $1")
                                    .execute(Tuple.of(p.accountId())))))
                .map(rows -> {
                  // committed: publish now, with a time after every session the token minted
                  w.audit(ctx, null, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.TOKEN_REVOKED, "token:" + id, Outcome.OUTCOME_SUCCESS);
                  for (Row r : rows) {
                    w.revoked(RevokedKind.REVOKED_KIND_TOKEN, r.getUUID("workspace_id"), id.toString(), p.accountId());
                  }
                  return (Void) null;
                }));
  }
}
