package dev.umbra.controlplane.devices;

import dev.umbra.proto.api.Device;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.HexFormat;

/**
 * A row of the devices table read as the API's {@link Device} answer (shared/proto: one shape for
 * the control plane and the clients): keys as lower-case hex, signed documents as served ({@code
 * {"payload","signature"}}), times as RFC 3339 text. The stored keys are read back as bytes here.
 */
final class DeviceRows {
  private static final HexFormat HEX = HexFormat.of();

  private DeviceRows() {}

  static Device of(Row r) {
    return new Device(
        r.getUUID("id"),
        r.getUUID("workspace_id"),
        r.getUUID("account_id"),
        r.getString("name"),
        r.getString("kind"),
        r.getString("status"),
        HEX.formatHex(r.getBuffer("ed25519_public_key").getBytes()),
        HEX.formatHex(r.getBuffer("p256_public_key").getBytes()),
        doc(r, "request"),
        doc(r, "credential"),
        doc(r, "revocation"),
        r.getInteger("keyset_version"),
        r.getOffsetDateTime("created_at").toString(),
        time(r, "approved_at"),
        time(r, "revoked_at"),
        doc(r, "webtty_key"));
  }

  /** The device's Ed25519 public key, as stored. */
  static byte[] signingKey(Device d) {
    return HEX.parseHex(d.ed25519PublicKey());
  }

  /** The device's P-256 public key (its envelope key), as stored. */
  static byte[] envelopeKey(Device d) {
    return HEX.parseHex(d.p256PublicKey());
  }

  /** The signed document in columns {@code <name>_payload}, {@code <name>_signature}; or null. */
  private static JsonObject doc(Row r, String name) {
    SignedDoc d = SignedDoc.of(r, name + "_payload", name + "_signature");
    return d == null ? null : d.json();
  }

  private static String time(Row r, String column) {
    OffsetDateTime t = r.getOffsetDateTime(column);
    return t == null ? null : t.toString();
  }
}
