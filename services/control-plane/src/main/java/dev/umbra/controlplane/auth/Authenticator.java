package dev.umbra.controlplane.auth;

import dev.umbra.crypto.secret.Argon2idHasher;
import dev.umbra.crypto.secret.VerificationMemo;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.function.Function;

/**
 * Authenticates API tokens: parse, refuse when the caller's IP or the token's lookup id has too
 * many recent failures, load by lookup id, verify the Argon2id hash off the event loop (against a
 * dummy hash when the id is unknown, so timing does not tell), track last use. A token whose secret
 * matched its row's hash in the last {@link #VERIFIED_FOR} is not hashed again (a CLI command makes
 * several requests; {@link VerificationMemo}); the row, and so revocation, is read on every request
 * all the same.
 */
public final class Authenticator {
  private static final Duration LAST_USED_GRANULARITY = Duration.ofMinutes(1);
  static final Duration VERIFIED_FOR = Duration.ofMinutes(5);
  private static final int VERIFIED_TOKENS = 10_000;
  private static final String TOO_MANY = "too many failed authentications; try again later";
  private static final String PRINCIPAL = "umbra.principal";

  private final Vertx vertx;
  private final Database db;
  private final Argon2idHasher hasher;
  private final VerificationMemo verified;
  private final FailureLimiter limiter;
  private final Clock clock;
  private final String dummyHash;
  private final Counter failures;

  public Authenticator(
      Vertx vertx,
      Database db,
      Argon2idHasher hasher,
      FailureLimiter limiter,
      Clock clock,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.db = db;
    this.hasher = hasher;
    this.verified = new VerificationMemo(hasher, clock, VERIFIED_FOR, VERIFIED_TOKENS);
    this.limiter = limiter;
    this.clock = clock;
    this.dummyHash = hasher.hash(ApiTokens.generate().getBytes(StandardCharsets.US_ASCII));
    this.failures =
        Counter.builder(dev.umbra.kit.metrics.Metrics.name("control-plane", "auth_failures"))
            .register(registry);
  }

  public Argon2idHasher hasher() {
    return hasher;
  }

  /**
   * The route handler mounted in front of every API-token route (see {@code ApiRoutes.mount}):
   * authenticates before the route reads anything of the request, and keeps the principal in the
   * context for {@link #authenticate}.
   */
  public Handler<RoutingContext> first() {
    return ctx ->
        authenticate(ctx, false)
            .onSuccess(
                p -> {
                  ctx.put(PRINCIPAL, p);
                  ctx.next();
                })
            .onFailure(ctx::fail);
  }

  /**
   * Authenticates the caller ({@code write}: a token that may write) and runs {@code work} as it:
   * how a route hands a request to its service.
   */
  public <T> Future<T> as(RoutingContext ctx, boolean write, Function<Caller, Future<T>> work) {
    return authenticate(ctx, write).compose(p -> work.apply(Caller.of(ctx, p)));
  }

  /**
   * The principal of the request (the one {@link #first} found, else authenticated now); {@code
   * write} requests need a full-scope token.
   */
  public Future<Principal> authenticate(RoutingContext ctx, boolean write) {
    Principal known = ctx.get(PRINCIPAL);
    if (known != null) {
      return Future.succeededFuture(known).map(p -> write ? requireWrite(p) : p);
    }
    String bearer = SessionAuth.bearer(ctx);
    String ip = "ip:" + ClientAddress.of(ctx);
    if (bearer == null) {
      return Future.failedFuture(
          ApiException.unauthorized("an API token is required (Authorization: Bearer umb_...)"));
    }
    var parsed = ApiTokens.parse(bearer);
    if (parsed.isEmpty()) {
      // counted like a wrong token, but nothing expensive is evaluated
      failures.increment();
      return limiter
          .reserve(ip)
          .compose(
              r ->
                  r.isPresent()
                      ? Future.failedFuture(invalid())
                      : Future.failedFuture(ApiException.tooManyRequests(TOO_MANY)));
    }
    String lookup = "lookup:" + parsed.get().lookupId();
    // the attempt is reserved in both buckets before the Argon2 check and refunded when it passes
    return limiter
        .guard(
            TOO_MANY,
            e -> e instanceof ApiException a && a.status() == 401,
            () ->
                db.withTransaction(
                        conn ->
                            conn.preparedQuery(
                                    "SELECT id, account_id, scope, secret_hash, last_used_at, revoked_at FROM api_tokens WHERE lookup_id = $1")
                                .execute(Tuple.of(parsed.get().lookupId()))
                                .map(rows -> rows.size() == 0 ? null : rows.iterator().next()))
                    .compose(
                        row -> {
                          String hash = row == null ? dummyHash : row.getString("secret_hash");
                          byte[] secret = parsed.get().secret().getBytes(StandardCharsets.US_ASCII);
                          return vertx
                              .executeBlocking(() -> verified.verify(hash, secret), false)
                              .compose(
                                  ok -> {
                                    if (ok && row != null && row.getValue("revoked_at") == null) {
                                      return touch(row);
                                    }
                                    failures.increment();
                                    return Future.failedFuture(invalid());
                                  });
                        }),
            ip,
            lookup)
        .map(p -> write ? requireWrite(p) : p);
  }

  private Future<Principal> touch(Row row) {
    UUID id = row.getUUID("id");
    Principal p =
        new Principal(
            row.getUUID("account_id"),
            id,
            TokenScope.parse(row.getString("scope")).orElse(TokenScope.READ));
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    OffsetDateTime last = row.getOffsetDateTime("last_used_at");
    if (last != null && last.plus(LAST_USED_GRANULARITY).isAfter(now)) {
      return Future.succeededFuture(p);
    }
    return db.withTransaction(
            conn ->
                conn.preparedQuery("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                    .execute(Tuple.of(id, now)))
        .map(p);
  }

  private static ApiException invalid() {
    return ApiException.unauthorized("invalid or revoked API token");
  }

  /** Fails unless the principal may write. */
  public static Principal requireWrite(Principal p) {
    if (p.scope() != TokenScope.FULL) {
      throw ApiException.forbidden("this API token is read-only");
    }
    return p;
  }
}
