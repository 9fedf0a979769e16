package dev.umbra.controlplane.tokens;

import dev.umbra.controlplane.auth.ApiTokens;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.crypto.secret.Argon2idHasher;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
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
          return new Minted(token, p.lookupId(), hasher.hash(p.secret().getBytes(StandardCharsets.US_ASCII)));
        },
        false);
  }

  /** Stores a minted token for {@code accountId}; returns the JSON shown once (with the token). */
  public static Future<JsonObject> insert(
      SqlConnection conn, UUID id, UUID accountId, String name, TokenScope scope, Minted m, OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO api_tokens (id, account_id, lookup_id, name, scope, secret_hash, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)")
        .execute(Tuple.of(id, accountId, m.lookupId(), name, scope.wire(), m.secretHash(), now))
        .map(
            r ->
                new JsonObject()
                    .put("id", id.toString())
                    .put("name", name)
                    .put("scope", scope.wire())
                    .put("created_at", now.toString())
                    .put("token", m.token()));
  }
}
