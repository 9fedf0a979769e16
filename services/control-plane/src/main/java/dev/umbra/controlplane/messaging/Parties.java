package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Runs a messaging request's work in its workspace's transaction as the checked {@link Party}, and
 * the input rules messaging routes share (base64 byte fields, peer lookups).
 */
final class Parties {
  private final Database db;

  Parties(Database db) {
    this.db = db;
  }

  Database db() {
    return db;
  }

  /** {@code work} in the route's workspace, as the party of the request's session token. */
  <T> Future<T> as(RoutingContext ctx, BiFunction<SqlConnection, Party, Future<T>> work) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    var claims = MessagingAuth.claims(ctx);
    return db.inWorkspace(
        wid, conn -> MessagingAuth.party(conn, wid, claims).compose(p -> work.apply(conn, p)));
  }

  /** Standard base64 bytes of {@code min..max} bytes; a 400 naming the field otherwise. */
  static byte[] bytes(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    if (!(v instanceof String s)) {
      throw ApiException.badRequest(field, field + " is required (base64)");
    }
    if (s.length() > (max + 2) / 3 * 4) {
      throw ApiException.badRequest(field, field + " is longer than " + max + " bytes");
    }
    byte[] b;
    try {
      b = Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + " must be base64");
    }
    if (b.length < min || b.length > max) {
      throw ApiException.badRequest(field, field + " must be " + min + " to " + max + " bytes");
    }
    return b;
  }

  static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  /** A non-negative integer member. */
  static long nonNegative(JsonObject body, String field, long max) {
    Object v = body.getValue(field);
    if (!(v instanceof Number n)
        || n.doubleValue() != Math.rint(n.doubleValue())
        || n.longValue() < 0
        || n.longValue() > max) {
      throw ApiException.badRequest(field, field + " must be an integer from 0 to " + max);
    }
    return n.longValue();
  }

  /**
   * Whether {@code id} is an active principal of kind {@code kind} in the workspace of {@code
   * conn}: a trusted device of a member, or an approved agent of a machine not revoked.
   */
  static Future<Boolean> active(SqlConnection conn, Party.Kind kind, UUID id) {
    String sql =
        kind == Party.Kind.AGENT
            ? "SELECT 1 FROM agents a JOIN machines m ON m.id = a.machine_id"
                + " WHERE a.id = $1 AND a.status = 'approved' AND m.revoked_at IS NULL"
            : "SELECT 1 FROM devices d JOIN members m ON m.account_id = d.account_id"
                + " WHERE d.id = $1 AND d.status = 'trusted'";
    return conn.preparedQuery(sql).execute(Tuple.of(id)).map(rows -> rows.size() > 0);
  }

  /** The first row of {@code rows} as {@code f} reads it; empty when there is none. */
  static <T> Optional<T> first(RowSet<Row> rows, Function<Row, T> f) {
    return rows.size() == 0 ? Optional.empty() : Optional.of(f.apply(rows.iterator().next()));
  }

  static Refusal.NotFound notFound(String what) {
    return Refusal.notFound(what);
  }
}
