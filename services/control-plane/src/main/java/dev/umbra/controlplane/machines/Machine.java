package dev.umbra.controlplane.machines;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A machine (a daemon's binding to a workspace) as stored; revoked once {@code revokedAt} is set.
 */
record Machine(
    UUID id,
    UUID workspaceId,
    UUID installId,
    String name,
    String os,
    byte[] x25519PublicKey,
    byte[] ed25519PublicKey,
    OffsetDateTime createdAt,
    OffsetDateTime lastSeenAt,
    OffsetDateTime revokedAt) {
  static Machine of(Row r) {
    return new Machine(
        r.getUUID("id"),
        r.getUUID("workspace_id"),
        r.getUUID("install_id"),
        r.getString("name"),
        r.getString("os"),
        r.getBuffer("x25519_public_key").getBytes(),
        r.getBuffer("ed25519_public_key").getBytes(),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("last_seen_at"),
        r.getOffsetDateTime("revoked_at"));
  }

  /** What the pairing service submits to bind a machine. */
  record Binding(
      UUID installId,
      byte[] x25519PublicKey,
      byte[] ed25519PublicKey,
      String name,
      String os,
      String pairedBy) {}
}
