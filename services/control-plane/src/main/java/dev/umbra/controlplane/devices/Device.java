package dev.umbra.controlplane.devices;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A device of a workspace as stored (docs/device-trust.md): its keys and signed documents. */
record Device(
    UUID id,
    UUID workspaceId,
    UUID accountId,
    String name,
    String kind,
    String status,
    byte[] ed25519PublicKey,
    byte[] p256PublicKey,
    SignedDoc request,
    SignedDoc credential,
    SignedDoc revocation,
    Integer keysetVersion,
    OffsetDateTime createdAt,
    OffsetDateTime approvedAt,
    OffsetDateTime revokedAt,
    SignedDoc webttyKey) {

  static Device of(Row r) {
    return new Device(
        r.getUUID("id"),
        r.getUUID("workspace_id"),
        r.getUUID("account_id"),
        r.getString("name"),
        r.getString("kind"),
        r.getString("status"),
        r.getBuffer("ed25519_public_key").getBytes(),
        r.getBuffer("p256_public_key").getBytes(),
        SignedDoc.of(r, "request_payload", "request_signature"),
        SignedDoc.of(r, "credential_payload", "credential_signature"),
        SignedDoc.of(r, "revocation_payload", "revocation_signature"),
        r.getInteger("keyset_version"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("approved_at"),
        r.getOffsetDateTime("revoked_at"),
        SignedDoc.of(r, "webtty_key_payload", "webtty_key_signature"));
  }

  boolean isPending() {
    return "pending".equals(status);
  }

  /**
   * The same device with another status (the answer to a rejection says "rejected"; the row is
   * gone).
   */
  Device withStatus(String s) {
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
