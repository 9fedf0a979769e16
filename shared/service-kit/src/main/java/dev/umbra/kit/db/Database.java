package dev.umbra.kit.db;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.TransactionRollbackException;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
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

  /**
   * Statements a connection sends without waiting for the previous one's answer. Only the
   * statements one unit of work issues together are in flight at once (a pooled connection serves
   * one unit of work at a time); PostgreSQL runs them one after another, in order.
   */
  static final int PIPELINING_LIMIT = 16;

  /** Prepared statements each pooled connection keeps parsed (least recently used dropped). */
  static final int PREPARED_STATEMENTS = 512;

  /**
   * Statements whose columns are "every column of a table" ({@code SELECT *}, {@code t.*}, {@code
   * RETURNING *}) are not kept prepared: PostgreSQL refuses to run a kept statement whose result
   * columns changed ("cached plan must not change result type"), so a migration that adds a column
   * would break a running instance's kept statement until it restarts. Their answer is read by
   * name, so they run unprepared as before (docs/tenancy.md).
   */
  private static final Pattern EVERY_COLUMN =
      Pattern.compile("(?i)(\\bselect|\\breturning|,)\\s*([a-z_][a-z0-9_]*\\.)?\\*");

  /** Longest statement kept prepared (the client's default). */
  private static final int LONGEST_KEPT = 2048;

  /**
   * Whether a statement is kept prepared on its connection (see {@link #EVERY_COLUMN}); one that is
   * not costs a Parse round trip before each execution (a hot path's statements should be kept).
   */
  public static boolean keptPrepared(String sql) {
    return sql.length() <= LONGEST_KEPT && !EVERY_COLUMN.matcher(sql).find();
  }

  /**
   * How many {@code timeout}s a session may sit idle inside a transaction before PostgreSQL ends it
   * ({@link #idleInTransaction}).
   */
  static final int IDLE_IN_TRANSACTION_TIMEOUTS = 6;

  /**
   * PostgreSQL's {@code idle_in_transaction_session_timeout} for our sessions, in milliseconds: an
   * instance cut off (partitioned, frozen, killed without its TCP connection closing) between a
   * transaction's statements and its {@code COMMIT} would otherwise hold that transaction's row
   * locks until its connection comes back, and every other instance's write to those rows would
   * wait for it. Our transactions never wait on anything but PostgreSQL between statements, and
   * their callers were answered 503 after one {@code timeout}; past several, PostgreSQL ends the
   * session and the transaction rolls back, like a lost answer (the caller retries with the same
   * ids).
   */
  static long idleInTransaction(Duration timeout) {
    return Math.min(Integer.MAX_VALUE, timeout.toMillis() * IDLE_IN_TRANSACTION_TIMEOUTS);
  }

  /** The setting of {@link #open}'s {@code timeout} (docs/configuration.md). */
  public static final String TIMEOUT_ENV = "UMBRA_PG_TIMEOUT_MS";

  /** How long a unit of work waits for PostgreSQL by default ({@link #TIMEOUT_ENV}). */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private final Vertx vertx;
  private final Pool pool;
  private final Pool ownerPool;
  private final String schema;
  private final String appRole;
  private final Duration timeout;

  private Database(
      Vertx vertx, Pool pool, Pool ownerPool, String schema, String appRole, Duration timeout) {
    this.vertx = vertx;
    this.pool = pool;
    this.ownerPool = ownerPool;
    this.schema = schema;
    this.appRole = appRole;
    this.timeout = timeout;
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
    return open(vertx, owner, appLogin, schema, appRole, poolSize, DEFAULT_TIMEOUT);
  }

  /**
   * As above, and {@code timeout} bounds how long a unit of work of the request pool waits for
   * PostgreSQL: to connect, for a pooled connection, and for its answers. Past it the work fails
   * with {@link DatabaseUnavailableException} (a request answers 503 {@code unavailable}), so an
   * instance cut off from PostgreSQL (a partition that answers nothing) fails fast instead of
   * holding requests until their clients give up. A unit of work that still ends later (the
   * connection came back) ends as it would have, commit included: its caller was told it failed, as
   * when an answer is lost, so what it did must be safe to retry (ids, idempotent writes). The
   * connection it holds is released only then, never reused while its answers are owed.
   */
  public static Future<Database> open(
      Vertx vertx,
      PgLocation owner,
      Optional<PgLocation> appLogin,
      String schema,
      String appRole,
      int poolSize,
      Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      return Future.failedFuture(new IllegalArgumentException("the timeout must be positive"));
    }
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
              Pool pool = pool(vertx, login, schema, poolSize, "umbra-" + schema, timeout);
              Pool ownerPool =
                  pool(
                      vertx, owner, schema, OWNER_POOL_SIZE, "umbra-" + schema + "-owner", timeout);
              Database db = new Database(vertx, pool, ownerPool, schema, login.user(), timeout);
              return db.checkRequestRole(owner.user())
                  .map(db)
                  .recover(e -> db.close().transform(x -> Future.failedFuture(e)));
            });
  }

  private static Pool pool(
      Vertx vertx, PgLocation at, String schema, int size, String name, Duration timeout) {
    int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    return PgBuilder.pool()
        .with(
            new PoolOptions()
                .setMaxSize(size)
                .setName(name)
                // a waiter for a pooled connection gives up then (the pool is stuck or gone)
                .setConnectionTimeout(ms)
                .setConnectionTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS))
        .with(new io.vertx.core.net.NetClientOptions().setConnectTimeout(ms))
        .connectingTo(
            at.connectOptions()
                .setPipeliningLimit(PIPELINING_LIMIT)
                // parsed once per connection, then one Bind/Execute per use (without the cache,
                // every preparedQuery is a Parse/Describe round trip, then the execution's)
                .setCachePreparedStatements(true)
                .setPreparedStatementCacheMaxSize(PREPARED_STATEMENTS)
                .setPreparedStatementCacheSqlFilter(Database::keptPrepared)
                .addProperty("search_path", schema)
                .addProperty("application_name", "umbra-" + schema)
                .addProperty(
                    "idle_in_transaction_session_timeout",
                    Long.toString(idleInTransaction(timeout))))
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
    return transaction(NO_WORKSPACE, false, work);
  }

  /**
   * Runs {@code work} in one transaction as the request role, after {@code SET LOCAL
   * umbra.workspace_id}: row-level security then shows only that workspace's rows. {@code BEGIN}
   * and the setting go out together (one round trip); {@code work} starts after the setting's
   * answer.
   */
  public <T> Future<T> inWorkspace(UUID workspaceId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(workspaceId, "workspaceId");
    return transaction(workspaceId, false, work);
  }

  /**
   * Like {@link #inWorkspace}, but {@code work}'s first statements are sent without waiting for the
   * setting's answer (pipelined on the connection with {@code BEGIN} and the setting: PostgreSQL
   * runs them in order, after the setting, in the same transaction). For work whose first step is
   * only statements: if the setting fails, the transaction is aborted and they fail too.
   */
  public <T> Future<T> inWorkspacePipelined(
      UUID workspaceId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(workspaceId, "workspaceId");
    return transaction(workspaceId, true, work);
  }

  /**
   * The end of a transaction that its work may send early: {@link #now} queues {@code COMMIT} on
   * the connection behind the statements the work has issued so far, without waiting for their
   * answers (see {@link #inWorkspaceCommittingEarly}).
   */
  public interface EarlyCommit {
    /**
     * Sends {@code COMMIT} behind the statements issued so far (once; later calls answer the same
     * future). If one of them fails, PostgreSQL has aborted the transaction and the {@code COMMIT}
     * rolls it back: nothing of it is kept, and the future fails (a {@code SELECT 1} sent just
     * before the {@code COMMIT} fails in an aborted transaction). No statement may be issued after
     * this call (it would run outside the transaction, where the workspace setting is gone).
     */
    Future<Void> now();
  }

  /**
   * Like {@link #inWorkspacePipelined}, but {@code work} may send the {@code COMMIT} itself, right
   * behind its last statements ({@link EarlyCommit#now}), instead of after their answers (a {@link
   * PlainTransaction}, so the client does not hold the {@code COMMIT} back either): a unit of work
   * whose last statements decide nothing on this side (whatever must stop the transaction raises an
   * error inside PostgreSQL) then ends one round trip sooner. Answers {@code work}'s outcome once
   * the {@code COMMIT} has answered too; fails if either failed (a failed statement made the {@code
   * COMMIT} a rollback). {@code work} must not fail after its statements succeeded unless it did
   * not call {@link EarlyCommit#now}: the transaction would be committed and reported failed. If it
   * does not call it, the {@code COMMIT} follows {@code work}'s success (a {@code ROLLBACK} its
   * failure).
   */
  public <T> Future<T> inWorkspaceCommittingEarly(
      UUID workspaceId, BiFunction<SqlConnection, EarlyCommit, Future<T>> work) {
    Objects.requireNonNull(workspaceId, "workspaceId");
    return plain(workspaceId, "BEGIN", false, work);
  }

  /**
   * A read-only unit of work in one round trip: {@code BEGIN READ ONLY}, the workspace setting,
   * {@code work}'s statements and {@code COMMIT} are sent together, the {@code COMMIT} behind them
   * without waiting for their answers (a read has nothing to decide before it ends; a {@link
   * PlainTransaction}: through the client's {@code Transaction} the {@code COMMIT} waited for them,
   * a second round trip, until 2026-12-05 19:10 UTC). So {@code work} must issue all its statements
   * before it returns (a statement issued after an answer would come after the {@code COMMIT} and
   * fail). Answers {@code work}'s outcome once everything sent has answered; fails if any of it
   * failed. The transaction is read only, so a write in {@code work} fails instead of being
   * committed unseen; row-level security applies as in {@link #inWorkspace}.
   */
  public <T> Future<T> readInWorkspace(UUID workspaceId, Function<SqlConnection, Future<T>> work) {
    Objects.requireNonNull(workspaceId, "workspaceId");
    return plain(workspaceId, "BEGIN READ ONLY", true, (conn, end) -> work.apply(conn));
  }

  /**
   * Runs {@code sql}, one statement, as its own transaction on a pooled connection: sent without
   * {@code BEGIN}, so PostgreSQL commits it when it succeeds (rolls it back when it fails) and
   * answers once, after the commit — one message each way, where a transaction of one statement is
   * four answers, each flushed and each waking this side (docs/messaging.md, "How a send is
   * stored"). For a call of a function that makes the workspace setting itself, locally, before it
   * reads (a {@code set_config(…, true)} ends with the statement's transaction): any other
   * statement runs with the pooled session's leftover setting, '' or the nil UUID, which matches no
   * workspace (or fails), never another workspace's rows.
   */
  public Future<RowSet<Row>> ownTransaction(String sql, Tuple args) {
    return onConnection(conn -> conn.preparedQuery(sql).execute(args));
  }

  /** A {@link PlainTransaction} in the workspace on a pooled connection, given back when done. */
  private <T> Future<T> plain(
      UUID workspaceId,
      String begin,
      boolean commitBehind,
      BiFunction<SqlConnection, EarlyCommit, Future<T>> work) {
    String setup = setting(workspaceId);
    return onConnection(conn -> PlainTransaction.run(conn, begin, setup, commitBehind, work));
  }

  /** The statement that sets the workspace for row-level security. */
  private static String setting(UUID workspaceId) {
    // A UUID's text form is fixed hex and dashes, so inlining it is safe.
    return "SELECT set_config('umbra.workspace_id', '" + workspaceId + "', true)";
  }

  /**
   * {@code unit} on a pooled connection, bounded by {@link #bounded}; the connection goes back to
   * the pool when the unit ends (a unit that throws ends failed).
   */
  private <T> Future<T> onConnection(Function<SqlConnection, Future<T>> unit) {
    return bounded(
        connection()
            .compose(
                conn -> {
                  Future<T> outcome;
                  try {
                    outcome = unit.apply(conn);
                  } catch (RuntimeException e) {
                    outcome = Future.failedFuture(e);
                  }
                  return outcome.onComplete(ar -> conn.close());
                }));
  }

  /** A pooled connection; failing to get one (connect, pool wait) is unavailability. */
  private Future<SqlConnection> connection() {
    return pool.getConnection()
        .recover(
            e ->
                Future.failedFuture(
                    new DatabaseUnavailableException(
                        "no PostgreSQL connection: " + e.getMessage(), e)));
  }

  /**
   * {@code work}'s outcome, or {@link DatabaseUnavailableException} once {@link #timeout} passed
   * without one (the work goes on and releases its connection when it ends); a failure to reach
   * PostgreSQL at all (connect, pool wait) is that exception too.
   */
  private <T> Future<T> bounded(Future<T> work) {
    Promise<T> answer = Promise.promise();
    long timer =
        vertx.setTimer(
            timeout.toMillis(),
            t ->
                answer.tryFail(
                    new DatabaseUnavailableException(
                        "PostgreSQL did not answer within " + timeout.toMillis() + " ms", null)));
    work.onComplete(
        ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            answer.tryComplete(ar.result());
          } else {
            answer.tryFail(DatabaseUnavailableException.classify(ar.cause()));
          }
        });
    return answer.future();
  }

  /**
   * One transaction on a pooled connection, as {@link Pool#withTransaction} runs it (commit on
   * success; rollback on failure, unless the transaction was already rolled back; the connection
   * back to the pool when done), except that {@code BEGIN} is not waited for: the setting (and,
   * {@code pipelined}, {@code work}'s first statements) are queued behind it on the connection and
   * sent with it. A failed {@code BEGIN} or setting fails every statement queued behind it, so
   * nothing runs outside the transaction or outside the workspace.
   */
  private <T> Future<T> transaction(
      UUID workspaceId, boolean pipelined, Function<SqlConnection, Future<T>> work) {
    String setup = setting(workspaceId);
    return onConnection(conn -> run(conn, setup, pipelined, work));
  }

  private static <T> Future<T> run(
      SqlConnection conn,
      String setup,
      boolean pipelined,
      Function<SqlConnection, Future<T>> work) {
    Future<Transaction> begun = conn.begin();
    Future<?> set = conn.query(setup).execute();
    Future<T> done = pipelined ? safely(work, conn) : set.compose(r -> safely(work, conn));
    // the outcome once everything sent has answered: a failed setting fails the work
    Future<T> ran =
        set.transform(
            s -> s.succeeded() ? done : done.transform(x -> Future.<T>failedFuture(s.cause())));
    return begun.transform(
        b ->
            b.failed()
                ? ran.transform(x -> Future.<T>failedFuture(b.cause()))
                : ran.transform(ar -> end(b.result(), ar)));
  }

  /** Commits after {@code ar} succeeded, else rolls back; answers {@code ar}'s outcome. */
  private static <T> Future<T> end(Transaction tx, AsyncResult<T> ar) {
    if (ar.succeeded()) {
      return tx.commit().map(v -> ar.result());
    }
    if (ar.cause() instanceof TransactionRollbackException) {
      return Future.failedFuture(ar.cause());
    }
    return tx.rollback().transform(v -> Future.failedFuture(ar.cause()));
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
    return bounded(pool.query("SELECT 1").execute().mapEmpty());
  }

  public Future<Void> close() {
    return Future.join(pool.close(), ownerPool.close()).mapEmpty();
  }
}
