package dev.umbra.controlplane.vault;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A vault entry as stored: HPKE ciphertext under a keyset version; the name is visible metadata.
 */
record VaultEntry(
    UUID id,
    String name,
    int keysetVersion,
    byte[] enc,
    byte[] ciphertext,
    OffsetDateTime updatedAt) {
  static VaultEntry of(Row r) {
    return new VaultEntry(
        r.getUUID("id"),
        r.getString("name"),
        r.getInteger("keyset_version"),
        r.getBuffer("enc").getBytes(),
        r.getBuffer("ciphertext").getBytes(),
        r.getOffsetDateTime("updated_at"));
  }

  /** An entry without its bytes: what lists show. */
  record Meta(UUID id, String name, int keysetVersion, int size, OffsetDateTime updatedAt) {
    static Meta of(Row r) {
      return new Meta(
          r.getUUID("id"),
          r.getString("name"),
          r.getInteger("keyset_version"),
          r.getInteger("size"),
          r.getOffsetDateTime("updated_at"));
    }
  }
}
