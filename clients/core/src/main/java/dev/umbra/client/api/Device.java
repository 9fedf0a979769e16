package dev.umbra.client.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/**
 * A device row as the control plane answers it (schema {@code Device}). The signed documents
 * ({@code request}, {@code credential}, {@code revocation}, {@code webtty_key}) stay JSON: their
 * meaning comes only from verifying them (docs/device-trust.md), never from this record.
 */
public record Device(
    UUID id,
    UUID workspaceId,
    UUID accountId,
    String name,
    String kind,
    String status,
    String ed25519PublicKey,
    String p256PublicKey,
    JsonObject request,
    JsonObject credential,
    JsonObject revocation,
    Integer keysetVersion,
    JsonObject webttyKey,
    String createdAt,
    String approvedAt,
    String revokedAt) {

  public static Device fromJson(JsonObject json) {
    ResponseFields f = ResponseFields.of(json, "Device");
    return new Device(
        f.uuid("id"),
        f.uuid("workspace_id"),
        f.uuid("account_id"),
        f.string("name"),
        f.string("kind"),
        f.string("status"),
        f.string("ed25519_public_key"),
        f.string("p256_public_key"),
        f.object("request"),
        f.optionalObject("credential"),
        f.optionalObject("revocation"),
        f.optionalInteger("keyset_version"),
        f.optionalObject("webtty_key"),
        f.string("created_at"),
        f.optionalString("approved_at"),
        f.optionalString("revoked_at"));
  }

  public static List<Device> listFromJson(JsonArray items) {
    return ResponseFields.list(items, Device::fromJson);
  }

  public boolean pending() {
    return "pending".equals(status);
  }
}
