package dev.umbra.controlplane.devices;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A Recovery Kit as stored: pending until confirmed, retired when another is confirmed or a
 * rotation drops it.
 */
record RecoveryKit(
    UUID id, String status, SignedDoc kit, OffsetDateTime createdAt, OffsetDateTime confirmedAt) {
  static RecoveryKit of(Row r) {
    return new RecoveryKit(
        r.getUUID("id"),
        r.getString("status"),
        SignedDoc.of(r, "payload", "signature"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("confirmed_at"));
  }
}
