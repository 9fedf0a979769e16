package dev.umbra.kit.db;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A service's PostgreSQL access. Every unit of work runs in one transaction as the application
 * role ({@code SET LOCAL ROLE}), which is neither table owner nor BYPASSRLS, so row-level
 * security applies; {@link #inWorkspace} also sets {@code umbra.workspace_id} (DESIGN.md §3).
 */
public final class Database {
  /** The workspace setting outside any workspace; row-level security matches no row with it. */
  public static final UUID NO_WORKSPACE = new UUID(0, 0);

  private static final Pattern IDENT = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final Pool pool;
  private final String schema;
  private final String appRole;

  private Database(Pool pool, String schema, String appRole) {
    this.pool = pool;
    this.schema = schema;
    this.appRole = appRole;
  }

  /** Migrates the schema (off the event loop) and opens the pool. */
  public static Future<Database> open(
      Vertx vertx, PgLocation pg, String schema, String appRole, int poolSize) {
    if (!IDENT.matcher(schema).matches() || !IDENT.matcher(appRole).matches()) {
      return Future.failedFuture(new IllegalArgumentException("schema and role must be SQL identifiers"));
    }
    return vertx
        .executeBlocking(() -> Migrations.prepare(pg, schema, appRole), false)
        .map(
            migrated -> {
              Pool pool =
                  PgBuilder.pool()
                      .with(new PoolOptions().setMaxSize(poolSize).setName("umbra-" + schema))
                      .connectingTo(
                          pg.connectOptions()
                              .setPipeliningLimit(1)
                              .addProperty("search_path", schema)
                              .addProperty("application_name", "umbra-" + schema))
                      .using(vertx)
                      .build();
              return new Database(pool, schema, appRole);
            });
  }

  public String schema() {
    return schema;
  }

  public String appRole() {
    return appRole;
  }

  /**
   * Runs {@code work} in one transaction as the application role with no workspace: the setting
   * is the nil UUID, which no workspace has. (Once a pooled session has seen the setting,
   * PostgreSQL keeps it defined as '' after the transaction, and ''::uuid would fail instead of
   * matching nothing.)
   */
  public <T> Future<T> withTransaction(Function<SqlConnection, Future<T>> work) {
    String setup =
        "SET LOCAL ROLE " + appRole + "; SELECT set_config('umbra.workspace_id', '" + NO_WORKSPACE + "', true)";
    return pool.withTransaction(conn -> conn.query(setup).execute().compose(r -> safely(work, conn)));
  }

  /**
   * Runs {@code work} in one transaction as the application role, after {@code SET LOCAL
   * umbra.workspace_id}: row-level security then shows only that workspace's rows.
   */
  public <T> Future<T> inWorkspace(UUID workspaceId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(workspaceId, "workspaceId");
    // A UUID's text form is fixed hex and dashes, so inlining it is safe; one round trip.
    String setup =
        "SET LOCAL ROLE "
            + appRole
            + "; SELECT set_config('umbra.workspace_id', '"
            + workspaceId
            + "', true)";
    return pool.withTransaction(conn -> conn.query(setup).execute().compose(r -> safely(work, conn)));
  }

  private static <T> Future<T> safely(Function<SqlConnection, Future<T>> work, SqlConnection conn) {
    try {
      return work.apply(conn);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * The owner's pool, bypassing the application role. Only for schema maintenance and
   * cross-tenant jobs that the service documents (e.g. audit chain verification); never for
   * request handling.
   */
  public Pool ownerPoolForMaintenance() {
    return pool;
  }

  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  public Future<Void> close() {
    return pool.close();
  }
}
