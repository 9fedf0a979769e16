package dev.umbra.controlplane.tokens;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** One of an account's API tokens as listed (never its secret or hash). */
record ApiToken(
    UUID id,
    String name,
    String scope,
    OffsetDateTime createdAt,
    OffsetDateTime lastUsedAt,
    OffsetDateTime revokedAt) {
  static ApiToken of(Row r) {
    return new ApiToken(
        r.getUUID("id"),
        r.getString("name"),
        r.getString("scope"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("last_used_at"),
        r.getOffsetDateTime("revoked_at"));
  }
}
