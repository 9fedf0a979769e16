package dev.umbra.proto.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;

/**
 * A device of a workspace as the control plane answers it (schema {@code Device},
 * docs/device-trust.md): one definition of the answer for the control plane, which writes it
 * ({@link #toJson()}), and the clients, which read it ({@link #fromJson}). Keys are lower-case hex,
 * times RFC 3339 strings. The signed documents ({@code request}, {@code credential}, {@code
 * revocation}, {@code webtty_key}, each {@code {"payload","signature"}}) stay JSON: their meaning
 * comes only from verifying them, never from this record.
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
    String createdAt,
    String approvedAt,
    String revokedAt,
    JsonObject webttyKey) {

  /** The answer read back, failing with a {@link ResponseShapeException} naming the member. */
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
        f.string("created_at"),
        f.optionalString("approved_at"),
        f.optionalString("revoked_at"),
        f.optionalObject("webtty_key"));
  }

  public static List<Device> listFromJson(JsonArray items) {
    return ResponseFields.list(items, Device::fromJson);
  }

  /** The answer as the control plane sends it: every member, null ones included, in this order. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id.toString())
        .put("workspace_id", workspaceId.toString())
        .put("account_id", accountId.toString())
        .put("name", name)
        .put("kind", kind)
        .put("status", status)
        .put("ed25519_public_key", ed25519PublicKey)
        .put("p256_public_key", p256PublicKey)
        .put("request", request)
        .put("credential", credential)
        .put("revocation", revocation)
        .put("keyset_version", keysetVersion)
        .put("created_at", createdAt)
        .put("approved_at", approvedAt)
        .put("revoked_at", revokedAt)
        .put("webtty_key", webttyKey);
  }

  public boolean pending() {
    return "pending".equals(status);
  }

  /** The same device with another status (the answer to a rejection says "rejected"). */
  public Device withStatus(String s) {
    return new Device(
        id,
        workspaceId,
        accountId,
        name,
        kind,
        s,
        ed25519PublicKey,
        p256PublicKey,
        request,
        credential,
        revocation,
        keysetVersion,
        createdAt,
        approvedAt,
        revokedAt,
        webttyKey);
  }
}
