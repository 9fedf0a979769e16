package dev.umbra.controlplane.agents;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * An agent: a workspace principal enrolled from a machine with its own Ed25519 identity and X25519
 * key (docs/messaging.md, "Agents"). Public keys only.
 */
public record Agent(
    UUID id,
    UUID workspaceId,
    UUID machineId,
    String name,
    byte[] ed25519PublicKey,
    byte[] x25519PublicKey,
    String status,
    OffsetDateTime createdAt,
    OffsetDateTime approvedAt,
    OffsetDateTime revokedAt) {

  public static final String PENDING = "pending";
  public static final String APPROVED = "approved";
  public static final String REVOKED = "revoked";

  /** The domain of the verification code's payload (docs/messaging.md). */
  public static final String KEYS_TYPE = "umbra-agent-keys/v1";

  static final String COLUMNS =
      "id, workspace_id, machine_id, name, ed25519_public_key, x25519_public_key, status,"
          + " created_at, approved_at, revoked_at";

  static Agent of(Row r) {
    return new Agent(
        r.getUUID("id"),
        r.getUUID("workspace_id"),
        r.getUUID("machine_id"),
        r.getString("name"),
        r.getBuffer("ed25519_public_key").getBytes(),
        r.getBuffer("x25519_public_key").getBytes(),
        r.getString("status"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("approved_at"),
        r.getOffsetDateTime("revoked_at"));
  }

  /**
   * What the verification code is derived from ({@code VerificationCodes.derive}): the agent's
   * workspace, name and public keys, so the admin's and the agent's clients compute the same code.
   */
  public static Map<String, Object> keysPayload(
      UUID workspaceId, String name, byte[] ed25519, byte[] x25519) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", KEYS_TYPE);
    m.put("workspace_id", workspaceId.toString());
    m.put("name", name);
    m.put("ed25519_public_key", HexFormat.of().formatHex(ed25519));
    m.put("x25519_public_key", HexFormat.of().formatHex(x25519));
    return m;
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id.toString())
        .put("workspace_id", workspaceId.toString())
        .put("machine_id", machineId.toString())
        .put("name", name)
        .put("status", status)
        .put("ed25519_public_key", HexFormat.of().formatHex(ed25519PublicKey))
        .put("x25519_public_key", HexFormat.of().formatHex(x25519PublicKey))
        .put("created_at", createdAt.toString())
        .put("approved_at", approvedAt == null ? null : approvedAt.toString())
        .put("revoked_at", revokedAt == null ? null : revokedAt.toString());
  }
}
