package dev.umbra.controlplane.workflows;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A stored workflow: its YAML text and the signature of its signed form, or neither when deleted (a
 * tombstone that keeps the version).
 */
record Workflow(
    String name,
    long version,
    String yaml,
    byte[] signature,
    UUID signerDeviceId,
    UUID setBy,
    OffsetDateTime updatedAt) {
  static Workflow of(Row r) {
    Buffer sig = r.getBuffer("signature");
    return new Workflow(
        r.getString("name"),
        r.getLong("version"),
        r.getString("yaml"),
        sig == null ? null : sig.getBytes(),
        r.getUUID("signer_device_id"),
        r.getUUID("set_by"),
        r.getOffsetDateTime("updated_at"));
  }

  boolean deleted() {
    return yaml == null;
  }
}
