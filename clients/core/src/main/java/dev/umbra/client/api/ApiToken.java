package dev.umbra.client.api;

import dev.umbra.proto.api.ResponseFields;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/**
 * An API token's metadata as the control plane answers it (schema {@code ApiToken}; never the
 * secret).
 */
public record ApiToken(
    UUID id, String name, String scope, String createdAt, String lastUsedAt, String revokedAt) {

  public static ApiToken fromJson(JsonObject json) {
    ResponseFields f = ResponseFields.of(json, "ApiToken");
    return new ApiToken(
        f.uuid("id"),
        f.string("name"),
        f.string("scope"),
        f.string("created_at"),
        f.optionalString("last_used_at"),
        f.optionalString("revoked_at"));
  }

  public static List<ApiToken> listFromJson(JsonArray items) {
    return ResponseFields.list(items, ApiToken::fromJson);
  }
}
