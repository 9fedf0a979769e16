package dev.umbra.controlplane.ttypolicy;

import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A machine's WebTTY server policy as stored: the document and the values the listing shows. */
record TtyPolicy(
    long version,
    boolean recording,
    String join,
    boolean recordStdin,
    String payload,
    byte[] signature,
    UUID signerDeviceId,
    UUID setBy,
    OffsetDateTime updatedAt) {
  static TtyPolicy of(Row r) {
    Buffer sig = r.getBuffer("signature");
    return new TtyPolicy(
        r.getLong("version"),
        r.getBoolean("recording"),
        r.getString("join_policy"),
        r.getBoolean("record_stdin"),
        r.getString("payload"),
        sig == null ? null : sig.getBytes(),
        r.getUUID("signer_device_id"),
        r.getUUID("set_by"),
        r.getOffsetDateTime("updated_at"));
  }
}
