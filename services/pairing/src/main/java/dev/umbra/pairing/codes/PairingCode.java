package dev.umbra.pairing.codes;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A pairing code as stored (never the code itself: only its hash is kept). */
record PairingCode(
    UUID id, boolean requirePsk, OffsetDateTime createdAt, OffsetDateTime expiresAt) {
  static PairingCode of(Row r) {
    return new PairingCode(
        r.getUUID("id"),
        r.getBoolean("require_psk"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("expires_at"));
  }

  /** The API's form of a code (docs/pairing.md). */
  JsonObject toJson() {
    return new JsonObject()
        .put("id", id.toString())
        .put("require_psk", requirePsk)
        .put("created_at", createdAt.toString())
        .put("expires_at", expiresAt.toString());
  }
}
