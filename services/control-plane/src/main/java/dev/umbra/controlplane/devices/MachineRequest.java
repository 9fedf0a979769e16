package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Function;

/**
 * A request a daemon signs with its binding's Ed25519 key ({@code workspace_id}, {@code
 * machine_id}, {@code timestamp_ms} within ±60 s, {@code signature} over a message the route
 * defines). The machine must exist in the workspace and not be revoked; failures count toward the
 * per-IP limit.
 */
public record MachineRequest(UUID workspaceId, UUID machineId, long timestampMs, byte[] signature) {

  /** The common members of a signed machine request's body; the route adds its own. */
  public static Schema.ObjectBuilder schema() {
    return Schema.object()
        .required("workspace_id", Schema.uuid())
        .required("machine_id", Schema.uuid())
        .required(
            "timestamp_ms",
            Schema.integer(0, Long.MAX_VALUE)
                .describe("unix milliseconds, within 60 s of the server's clock"))
        .required(
            "signature",
            Schema.hex(64).describe("Ed25519 by the binding key over the route's message"));
  }

  /** How far {@code timestamp_ms} may be from the server's clock. */
  public static final Duration MAX_SKEW = Duration.ofSeconds(60);

  /**
   * What checking a machine's request needs: the clock (timestamp), the database, the per-IP
   * failure limiter.
   */
  public record Checker(Clock clock, Database db, FailureLimiter limiter) {}

  /** Parses the common members of {@code body} (the route has already refused unknown members). */
  public static MachineRequest parse(Clock clock, JsonObject body) {
    UUID wid = Requests.uuid(Requests.string(body, "workspace_id", 36, 36), "workspace_id");
    UUID mid = Requests.uuid(Requests.string(body, "machine_id", 36, 36), "machine_id");
    Signed s = signed(clock, body);
    return new MachineRequest(wid, mid, s.timestampMs(), s.signature());
  }

  /** A body's {@code timestamp_ms} (within {@link #MAX_SKEW}) and 64-byte {@code signature}. */
  public record Signed(long timestampMs, byte[] signature) {}

  /**
   * Parses {@code timestamp_ms} and {@code signature} (128 hex digits) of a signed body, refusing a
   * timestamp too far from the server's clock with 401 {@code stale_signature}.
   */
  public static Signed signed(Clock clock, JsonObject body) {
    if (!(body.getValue("timestamp_ms") instanceof Number n)) {
      throw ApiException.badRequest(
          "timestamp_ms", "timestamp_ms must be an integer (unix milliseconds)");
    }
    byte[] sig;
    try {
      sig = HexFormat.of().parseHex(Requests.string(body, "signature", 128, 128));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("signature", "signature must be 128 hex digits");
    }
    if (Math.abs(clock.millis() - n.longValue()) > MAX_SKEW.toMillis()) {
      throw new ApiException(
          401,
          "stale_signature",
          "timestamp_ms is too far from the server's clock",
          "timestamp_ms");
    }
    return new Signed(n.longValue(), sig);
  }

  /**
   * Checks the signature over {@code message} inside the workspace, then runs {@code work} in the
   * same transaction.
   */
  public <T> Future<T> run(
      Checker w, RoutingContext ctx, byte[] message, Function<SqlConnection, Future<T>> work) {
    String ip = "ip:" + ClientAddress.of(ctx);
    ApiException denied = ApiException.unauthorized("machine not found, revoked, or bad signature");
    return w.limiter()
        .guard(
            "too many failed attempts",
            e -> e == denied,
            () ->
                w.db()
                    .inWorkspace(
                        workspaceId,
                        conn ->
                            conn.preparedQuery(
                                    "SELECT ed25519_public_key, revoked_at FROM machines WHERE id = $1")
                                .execute(Tuple.of(machineId))
                                .compose(
                                    rows -> {
                                      if (rows.size() == 0
                                          || rows.iterator().next().getValue("revoked_at")
                                              != null) {
                                        return Future.<T>failedFuture(denied);
                                      }
                                      try {
                                        Ed25519PublicKey.fromBytes(
                                                rows.iterator()
                                                    .next()
                                                    .getBuffer("ed25519_public_key")
                                                    .getBytes())
                                            .verify(message, signature);
                                      } catch (CryptoException e) {
                                        return Future.<T>failedFuture(denied);
                                      }
                                      return work.apply(conn);
                                    })),
            ip);
  }
}
