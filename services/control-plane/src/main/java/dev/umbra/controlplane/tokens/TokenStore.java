package dev.umbra.controlplane.tokens;

import dev.umbra.controlplane.auth.ApiTokens;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.db.Rows;
import dev.umbra.crypto.secret.Argon2idHasher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** Makes API tokens: the raw token exists only in the response that shows it once. */
public final class TokenStore {
  private final Vertx vertx;
  private final Argon2idHasher hasher;

  public TokenStore(Vertx vertx, Argon2idHasher hasher) {
    this.vertx = vertx;
    this.hasher = hasher;
  }

  /** A new token and its hash (hashed off the event loop). */
  public record Minted(String token, String lookupId, String secretHash) {
    @Override
    public String toString() {
      return "Minted[" + lookupId + ", redacted]";
    }
  }

  public Future<Minted> mint() {
    return vertx.executeBlocking(
        () -> {
          String token = ApiTokens.generate();
          ApiTokens.Parsed p = ApiTokens.parse(token).orElseThrow();
          return new Minted(
              token, p.lookupId(), hasher.hash(p.secret().getBytes(StandardCharsets.US_ASCII)));
        },
        false);
  }

  /** Stores a minted token for {@code accountId}; returns it with the secret (shown once). */
  public static Future<IssuedToken> insert(
      SqlConnection conn,
      UUID id,
      UUID accountId,
      String name,
      TokenScope scope,
      Minted m,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO api_tokens (id, account_id, lookup_id, name, scope, secret_hash, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)")
        .execute(Tuple.of(id, accountId, m.lookupId(), name, scope.wire(), m.secretHash(), now))
        .map(r -> new IssuedToken(id, name, scope, now, m.token()));
  }

  /** The account's tokens after {@code after}, by id. */
  static Future<List<ApiToken>> page(SqlConnection conn, UUID accountId, UUID after, int limit) {
    return conn.preparedQuery(
            "SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .execute(Tuple.of(accountId, after, limit))
        .map(rows -> Rows.all(rows, ApiToken::of));
  }

  /**
   * Revokes the account's token (keeping the first time); the workspaces of the account then, or
   * null when the token is not the account's.
   */
  static Future<List<UUID>> revoke(
      SqlConnection conn, UUID accountId, UUID id, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $3) WHERE id = $1 AND account_id = $2")
        .execute(Tuple.of(id, accountId, now))
        .compose(
            r ->
                r.rowCount() == 0
                    ? Future.<List<UUID>>succeededFuture(null)
                    : conn.preparedQuery("SELECT set_config('umbra.account_id', $1, true)")
                        .execute(Tuple.of(accountId.toString()))
                        .compose(
                            x ->
                                conn.preparedQuery(
                                        "SELECT workspace_id FROM account_workspaces WHERE account_id = $1")
                                    .execute(Tuple.of(accountId)))
                        .map(rows -> Rows.all(rows, row -> row.getUUID("workspace_id"))));
  }
}
