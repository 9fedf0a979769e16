package dev.umbra.kit.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A service's PostgreSQL access. Requests run on a pool that connects as the request role, a LOGIN
 * role that is neither owner, superuser nor BYPASSRLS and cannot become one (checked at open), so
 * row-level security applies and {@code RESET ROLE} or {@code SET ROLE <owner>} in a request
 * transaction gains nothing. Every unit of work runs in one transaction; {@link #inWorkspace} also
 * sets {@code umbra.workspace_id} (DESIGN.md §3). Migrations run as the owner on their own
 * short-lived connection; a small owner pool exists only for the documented cross-tenant
 * maintenance paths ({@link #ownerPoolForMaintenance}).
 */
public final class Database {
  /** The workspace setting outside any workspace; row-level security matches no row with it. */
  public static final UUID NO_WORKSPACE = new UUID(0, 0);

  /** Connections of the owner pool (maintenance only). */
  public static final int OWNER_POOL_SIZE = 2;

  private static final Pattern IDENT = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final Pool pool;
  private final Pool ownerPool;
  private final String schema;
  private final String appRole;

  private Database(Pool pool, Pool ownerPool, String schema, String appRole) {
    this.pool = pool;
    this.ownerPool = ownerPool;
    this.schema = schema;
    this.appRole = appRole;
  }

  /**
   * Migrates the schema (off the event loop) and opens the pools; the request role is kit-managed
   * {@code appRole}.
   */
  public static Future<Database> open(
      Vertx vertx, PgLocation pg, String schema, String appRole, int poolSize) {
    return open(vertx, pg, Optional.empty(), schema, appRole, poolSize);
  }

  /**
   * Migrates the schema as {@code owner} (off the event loop), opens the request pool as {@code
   * appLogin} (or the kit-managed {@code appRole} when empty) and checks that its role can neither
   * bypass row-level security nor become a role that can; fails closed otherwise.
   */
  public static Future<Database> open(
      Vertx vertx,
      PgLocation owner,
      Optional<PgLocation> appLogin,
      String schema,
      String appRole,
      int poolSize) {
    if (!IDENT.matcher(schema).matches()
        || !IDENT.matcher(appRole).matches()
        || appLogin.map(l -> !IDENT.matcher(l.user()).matches()).orElse(false)) {
      return Future.failedFuture(
          new IllegalArgumentException("schema and role must be SQL identifiers"));
    }
    return vertx
        .executeBlocking(() -> Migrations.prepare(owner, schema, appLogin, appRole), false)
        .compose(
            login -> {
              Pool pool = pool(vertx, login, schema, poolSize, "umbra-" + schema);
              Pool ownerPool =
                  pool(vertx, owner, schema, OWNER_POOL_SIZE, "umbra-" + schema + "-owner");
              Database db = new Database(pool, ownerPool, schema, login.user());
              return db.checkRequestRole(owner.user())
                  .map(db)
                  .recover(e -> db.close().transform(x -> Future.failedFuture(e)));
            });
  }

  private static Pool pool(Vertx vertx, PgLocation at, String schema, int size, String name) {
    return PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(size).setName(name))
        .connectingTo(
            at.connectOptions()
                .setPipeliningLimit(1)
                .addProperty("search_path", schema)
                .addProperty("application_name", "umbra-" + schema))
        .using(vertx)
        .build();
  }

  /**
   * Fails unless the request pool's session user is not the owner, not superuser, not BYPASSRLS,
   * and not a member of any role that is one of those (so no SET ROLE reaches one).
   */
  private Future<Void> checkRequestRole(String ownerUser) {
    return pool.preparedQuery(
            "SELECT session_user::text AS who, "
                + "pg_has_role(session_user, n.nspowner, 'MEMBER') AS owns_schema, "
                + "EXISTS (SELECT 1 FROM pg_roles o WHERE o.rolname = $2 AND pg_has_role(session_user, o.oid, 'MEMBER')) AS owner_member, "
                + "EXISTS (SELECT 1 FROM pg_roles r WHERE (r.rolsuper OR r.rolbypassrls) "
                + "AND pg_has_role(session_user, r.oid, 'MEMBER')) AS bypasses "
                + "FROM pg_namespace n WHERE n.nspname = $1")
        .execute(Tuple.of(schema, ownerUser))
        .compose(
            rows -> {
              if (rows.size() != 1) {
                return Future.failedFuture(
                    new DatabaseException("schema " + schema + " is missing", null));
              }
              Row r = rows.iterator().next();
              if (r.getBoolean("owns_schema")
                  || r.getBoolean("owner_member")
                  || r.getBoolean("bypasses")) {
                return Future.failedFuture(
                    new DatabaseException(
                        "the request role "
                            + r.getString("who")
                            + " is, or can become, the owner, a superuser or a BYPASSRLS role; row-level security would not hold. "
                            + "Give UMBRA_PG_APP_URL a plain LOGIN role (docs/deploy.md)",
                        null));
              }
              return Future.<Void>succeededFuture();
            });
  }

  public String schema() {
    return schema;
  }

  /** The request role: the session user of the request pool. */
  public String appRole() {
    return appRole;
  }

  /**
   * Runs {@code work} in one transaction as the request role with no workspace: the setting is the
   * nil UUID, which no workspace has. (Once a pooled session has seen the setting, PostgreSQL keeps
   * it defined as '' after the transaction, and ''::uuid would fail instead of matching nothing.)
   */
  public <T> Future<T> withTransaction(Function<SqlConnection, Future<T>> work) {
    String setup = "SELECT set_config('umbra.workspace_id', '" + NO_WORKSPACE + "', true)";
    return pool.withTransaction(
        conn -> conn.query(setup).execute().compose(r -> safely(work, conn)));
  }

  /**
   * Runs {@code work} in one transaction as the request role, after {@code SET LOCAL
   * umbra.workspace_id}: row-level security then shows only that workspace's rows.
   */
  public <T> Future<T> inWorkspace(UUID workspaceId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(workspaceId, "workspaceId");
    // A UUID's text form is fixed hex and dashes, so inlining it is safe; one round trip.
    String setup = "SELECT set_config('umbra.workspace_id', '" + workspaceId + "', true)";
    return pool.withTransaction(
        conn -> conn.query(setup).execute().compose(r -> safely(work, conn)));
  }

  /**
   * Like {@link #inWorkspace}, but {@code work}'s first statements are sent without waiting for the
   * setting's answer (pipelined on the connection: PostgreSQL runs them in order, after the
   * setting, in the same transaction). For work whose first step is only statements: if the setting
   * fails, the transaction is aborted and they fail too.
   */
  public <T> Future<T> inWorkspacePipelined(
      UUID workspaceId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(workspaceId, "workspaceId");
    String setup = "SELECT set_config('umbra.workspace_id', '" + workspaceId + "', true)";
    return pool.withTransaction(
        conn -> {
          Future<?> set = conn.query(setup).execute();
          Future<T> done = safely(work, conn);
          return set.compose(r -> done);
        });
  }

  private static <T> Future<T> safely(Function<SqlConnection, Future<T>> work, SqlConnection conn) {
    try {
      return work.apply(conn);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * The owner's pool (its own connections, as the owner), bypassing the request role. Only for
   * schema maintenance and cross-tenant jobs that the service documents (e.g. audit chain
   * verification); never for request handling.
   */
  public Pool ownerPoolForMaintenance() {
    return ownerPool;
  }

  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  public Future<Void> close() {
    return Future.join(pool.close(), ownerPool.close()).mapEmpty();
  }
}
