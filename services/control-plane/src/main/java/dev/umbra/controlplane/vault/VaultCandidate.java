package dev.umbra.controlplane.vault;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A proposed vault entry as stored, with the account that proposed it. */
record VaultCandidate(
    UUID id,
    String name,
    int keysetVersion,
    UUID proposedBy,
    OffsetDateTime createdAt,
    byte[] enc,
    byte[] ciphertext) {
  static VaultCandidate of(Row r) {
    return new VaultCandidate(
        r.getUUID("id"),
        r.getString("name"),
        r.getInteger("keyset_version"),
        r.getUUID("proposed_by"),
        r.getOffsetDateTime("created_at"),
        r.getBuffer("enc").getBytes(),
        r.getBuffer("ciphertext").getBytes());
  }
}
