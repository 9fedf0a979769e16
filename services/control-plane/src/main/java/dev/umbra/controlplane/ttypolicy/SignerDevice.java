package dev.umbra.controlplane.ttypolicy;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import java.util.UUID;

/**
 * What deciding whether a device may sign a policy reads of it: owner, status, key and credential.
 */
record SignerDevice(
    UUID accountId,
    String status,
    byte[] ed25519PublicKey,
    String credentialPayload,
    byte[] credentialSignature) {
  static SignerDevice of(Row r) {
    Buffer sig = r.getBuffer("credential_signature");
    return new SignerDevice(
        r.getUUID("account_id"),
        r.getString("status"),
        r.getBuffer("ed25519_public_key").getBytes(),
        r.getString("credential_payload"),
        sig == null ? null : sig.getBytes());
  }
}
