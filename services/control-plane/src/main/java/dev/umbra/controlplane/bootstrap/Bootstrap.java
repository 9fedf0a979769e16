package dev.umbra.controlplane.bootstrap;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.controlplane.workspaces.Workspaces;
import dev.umbra.crypto.secret.Blake2b256;
import dev.umbra.crypto.secret.SecureRandoms;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Tuple;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;

/**
 * The one-time bootstrap: a fresh deployment has a bootstrap token (from
 * {@code UMBRA_BOOTSTRAP_TOKEN}, or generated and printed once to stderr at first start); stored
 * only as its BLAKE2b-256 hash; redeeming it creates the first account, workspace and owner, and
 * an API token for the CLI, and burns it.
 */
public final class Bootstrap {
  public static final String ENV = "UMBRA_BOOTSTRAP_TOKEN";
  public static final String PREFIX = "umbb_";
  private static final int MIN_CHARS = 32;
  private static final int MAX_CHARS = 256;

  private final Wiring w;

  public Bootstrap(Wiring w) {
    this.w = w;
  }

  /** Validates the variable (a config error when too short). */
  public static Optional<String> configured(dev.umbra.kit.config.Env env) {
    Optional<String> t = env.optional(ENV);
    if (t.isPresent() && (t.get().length() < MIN_CHARS || t.get().length() > MAX_CHARS)) {
      throw new ConfigException(ENV, "must be " + MIN_CHARS + " to " + MAX_CHARS + " characters");
    }
    return t;
  }

  /**
   * At start: when the deployment has no owner yet, installs the configured token's hash, or on
   * the very first start generates one and prints it to {@code stderr} (never to the log).
   */
  public Future<Void> prepare(Optional<String> configured, PrintStream stderr) {
    return w.db()
        .withTransaction(
            conn -> conn.preparedQuery("SELECT used_at FROM bootstrap WHERE id = 1").execute()
                .compose(rows -> {
                  boolean exists = rows.size() > 0;
                  if (exists && rows.iterator().next().getValue("used_at") != null) {
                    return Future.succeededFuture((String) null);
                  }
                  if (configured.isPresent()) {
                    return conn.preparedQuery(
                            "INSERT INTO bootstrap (id, token_hash, created_at) VALUES (1, $1, $2) "
                                + "ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash WHERE bootstrap.used_at IS NULL")
                        .execute(Tuple.of(hash(configured.get()), w.now()))
                        .map(r -> (String) null);
                  }
                  if (exists) {
                    return Future.succeededFuture("");
                  }
                  String token = PREFIX + SecureRandoms.urlSafeToken(32);
                  return conn.preparedQuery(
                          "INSERT INTO bootstrap (id, token_hash, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
                      .execute(Tuple.of(hash(token), w.now()))
                      .map(r -> r.rowCount() == 1 ? token : "");
                }))
        .onSuccess(
            printed -> {
              if (printed != null && !printed.isEmpty()) {
                stderr.println("bootstrap token: " + printed);
                stderr.flush();
              } else if (printed != null) {
                stderr.println("umbra-control-plane: not bootstrapped yet; the bootstrap token was printed at first start"
                    + " (set " + ENV + " to replace it)");
              }
            })
        .mapEmpty();
  }

  private static Buffer hash(String token) {
    return Buffer.buffer(Blake2b256.hash(token.getBytes(StandardCharsets.UTF_8)));
  }

  public void register(ApiRoutes routes) {
    routes.add(HttpMethod.POST, "/v1/bootstrap", "Redeem the one-time bootstrap token: first owner, workspace and API token",
        Auth.NONE, 201,
        Schema.object().required("token", Schema.string(1, MAX_CHARS).describe("umbb_... (printed at first start or UMBRA_BOOTSTRAP_TOKEN)"))
            .optional("account_name", Schema.string(1, Requests.MAX_NAME).describe("default owner"))
            .optional("workspace_name", Schema.string(1, Requests.MAX_NAME).describe("default default")).build(),
        Schema.object().required("account", Schema.object().required("id", Schema.uuid()).required("name", Schema.string()).build())
            .required("workspace", dev.umbra.controlplane.workspaces.WorkspaceRoutes.WORKSPACE_CREATED)
            .required("api_token", dev.umbra.controlplane.tokens.TokenRoutes.TOKEN_CREATED).build(),
        Handlers.json(201, this::redeem));
  }

  private Future<JsonObject> redeem(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "token", "account_name", "workspace_name");
    String token = Requests.string(body, "token", 1, MAX_CHARS);
    String accountName = Requests.optionalString(body, "account_name", 1, Requests.MAX_NAME).orElse("owner");
    String workspaceName = Requests.optionalString(body, "workspace_name", 1, Requests.MAX_NAME).orElse("default");
    String ip = "ip:" + ClientAddress.of(ctx);
    byte[] presented = token.getBytes(StandardCharsets.UTF_8);
    return w.limiter().guard("too many failed attempts; try again later",
        e -> e instanceof ApiException api && api.status() == 401,
        () -> w.tokens().mint()
        .compose(
            minted -> w.db().withTransaction(
                conn -> conn.preparedQuery("SELECT token_hash, used_at FROM bootstrap WHERE id = 1 FOR UPDATE").execute()
                    .compose(rows -> {
                      if (rows.size() == 0) {
                        return Future.failedFuture(invalid());
                      }
                      var row = rows.iterator().next();
                      if (row.getValue("used_at") != null) {
                        return Future.failedFuture(new ApiException(409, "already_bootstrapped",
                            "this deployment is already bootstrapped; log in with an API token"));
                      }
                      if (!Blake2b256.matches(presented, row.getBuffer("token_hash").getBytes())) {
                        return Future.failedFuture(invalid());
                      }
                      UUID account = w.ids().next();
                      UUID workspace = w.ids().next();
                      return conn.preparedQuery("UPDATE bootstrap SET used_at = $1 WHERE id = 1").execute(Tuple.of(w.now()))
                          .compose(r -> Workspaces.createAccount(conn, account, accountName, w.now()))
                          .compose(r -> Workspaces.create(conn, w.ids(), workspace, workspaceName, account, Role.OWNER, w.now()))
                          .compose(ws -> TokenStore.insert(conn, w.ids().next(), account, "cli (bootstrap)", TokenScope.FULL, minted, w.now())
                              .map(tok -> new JsonObject()
                                  .put("account", new JsonObject().put("id", account.toString()).put("name", accountName))
                                  .put("workspace", ws)
                                  .put("api_token", tok)));
                    }))), ip)
        .onSuccess(j -> w.audit(ctx, UUID.fromString(j.getJsonObject("workspace").getString("id")),
            ActorKind.ACTOR_KIND_MEMBER, j.getJsonObject("account").getString("id"), AuditAction.WORKSPACE_CREATED, "deployment:bootstrap", Outcome.OUTCOME_SUCCESS))
        .recover(e -> {
          if (e instanceof ApiException api && api.status() == 401) {
            w.audit(ctx, null, ActorKind.ACTOR_KIND_ANONYMOUS, null, AuditAction.TOKEN_REFUSED, "deployment:bootstrap", Outcome.OUTCOME_FAILURE);
          }
          return Future.failedFuture(e);
        });
  }

  private static ApiException invalid() {
    return new ApiException(401, "invalid_bootstrap_token", "bootstrap token is not valid");
  }
}
