package dev.umbra.controlplane.bootstrap;

import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.tokens.TokenRoutes;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.controlplane.workspaces.WorkspaceRoutes;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.PrintStream;
import java.time.Clock;
import java.util.Optional;

/**
 * The one-time bootstrap (docs/control-plane.md): a fresh deployment has a bootstrap token (from
 * {@code UMBRA_BOOTSTRAP_TOKEN}, or generated and printed once to stderr at first start). This is
 * its HTTP route and start-up step; {@link BootstrapService} decides, {@link BootstrapStore} holds
 * the SQL.
 */
public final class Bootstrap {
  public static final String ENV = "UMBRA_BOOTSTRAP_TOKEN";
  public static final String PREFIX = BootstrapService.PREFIX;
  private static final int MIN_CHARS = 32;
  private static final int MAX_CHARS = 256;

  private final BootstrapService bootstrap;

  Bootstrap(BootstrapService bootstrap) {
    this.bootstrap = bootstrap;
  }

  /** The feature wired by hand with only what it uses. */
  public static Bootstrap wire(
      Database db,
      TokenStore tokens,
      FailureLimiter limiter,
      AuditTrail audit,
      Ids ids,
      Clock clock) {
    return new Bootstrap(
        new BootstrapService(db, new BootstrapStore(), tokens, limiter, audit, ids, clock));
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
   * At start: when the deployment has no owner yet, installs the configured token's hash, or on the
   * very first start generates one and prints it to {@code stderr} (never to the log).
   */
  public Future<Void> prepare(Optional<String> configured, PrintStream stderr) {
    return bootstrap
        .prepare(configured)
        .onSuccess(
            printed -> {
              if (printed != null && !printed.isEmpty()) {
                stderr.println("bootstrap token: " + printed);
                stderr.flush();
              } else if (printed != null) {
                stderr.println(
                    "umbra-control-plane: not bootstrapped yet; the bootstrap token was printed at first start"
                        + " (set "
                        + ENV
                        + " to replace it)");
              }
            })
        .mapEmpty();
  }

  public void register(ApiRoutes routes) {
    routes.add(
        HttpMethod.POST,
        ControlPlanePaths.BOOTSTRAP,
        "Redeem the one-time bootstrap token: first owner, workspace and API token",
        Auth.NONE,
        201,
        Schema.object()
            .required(
                "token",
                Schema.string(1, MAX_CHARS)
                    .describe("umbb_... (printed at first start or UMBRA_BOOTSTRAP_TOKEN)"))
            .optional("account_name", Schema.string(1, Requests.MAX_NAME).describe("default owner"))
            .optional(
                "workspace_name", Schema.string(1, Requests.MAX_NAME).describe("default default"))
            .build(),
        Schema.object()
            .required(
                "account",
                Schema.object()
                    .required("id", Schema.uuid())
                    .required("name", Schema.string())
                    .build())
            .required("workspace", WorkspaceRoutes.WORKSPACE_CREATED)
            .required("api_token", TokenRoutes.TOKEN_CREATED)
            .build(),
        Handlers.json(201, this::redeem));
  }

  private Future<JsonObject> redeem(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "token", "account_name", "workspace_name");
    String token = Requests.string(body, "token", 1, MAX_CHARS);
    String accountName =
        Requests.optionalString(body, "account_name", 1, Requests.MAX_NAME).orElse("owner");
    String workspaceName =
        Requests.optionalString(body, "workspace_name", 1, Requests.MAX_NAME).orElse("default");
    return bootstrap
        .redeem(
            ClientAddress.forAudit(ctx),
            "ip:" + ClientAddress.of(ctx),
            token,
            accountName,
            workspaceName)
        .map(
            r ->
                new JsonObject()
                    .put(
                        "account",
                        new JsonObject()
                            .put("id", r.accountId().toString())
                            .put("name", r.accountName()))
                    .put("workspace", WorkspaceRoutes.created(r.workspace()))
                    .put("api_token", TokenRoutes.issued(r.apiToken())));
  }
}
