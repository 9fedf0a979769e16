package dev.umbra.client.api;

import dev.umbra.proto.api.ResponseFields;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/**
 * A machine as the control plane answers it (schema {@code Machine}); times are RFC 3339 strings.
 */
public record Machine(
    UUID id,
    UUID workspaceId,
    String name,
    String os,
    String status,
    String x25519PublicKey,
    String ed25519PublicKey,
    String createdAt,
    String lastSeenAt,
    String revokedAt) {

  public static Machine fromJson(JsonObject json) {
    ResponseFields f = ResponseFields.of(json, "Machine");
    return new Machine(
        f.uuid("id"),
        f.uuid("workspace_id"),
        f.string("name"),
        f.string("os"),
        f.string("status"),
        f.string("x25519_public_key"),
        f.string("ed25519_public_key"),
        f.string("created_at"),
        f.optionalString("last_seen_at"),
        f.optionalString("revoked_at"));
  }

  public static List<Machine> listFromJson(JsonArray items) {
    return ResponseFields.list(items, Machine::fromJson);
  }

  public boolean active() {
    return "active".equals(status);
  }
}
