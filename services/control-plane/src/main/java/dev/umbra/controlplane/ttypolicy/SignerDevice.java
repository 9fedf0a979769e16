package dev.umbra.controlplane.ttypolicy;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

/**
 * What deciding whether a device may sign a document (a WebTTY policy, a workflow) reads of it:
 * owner, status, key and credential. A second line only: daemons verify the signer against their
 * own pinned trust.
 */
public record SignerDevice(
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

  /** The device that would sign; null when none (on a transaction with its workspace set). */
  public static Future<SignerDevice> find(SqlConnection conn, UUID deviceId) {
    return conn.preparedQuery(
            "SELECT account_id, status, ed25519_public_key, credential_payload, credential_signature FROM devices WHERE id = $1")
        .execute(Tuple.of(deviceId))
        .map(rows -> Rows.first(rows, SignerDevice::of));
  }

  /** The current workspace signing key; null when the workspace has no keyset. */
  public static Future<Ed25519PublicKey> workspaceKey(SqlConnection conn) {
    return conn.preparedQuery("SELECT payload FROM keysets ORDER BY version DESC LIMIT 1")
        .execute()
        .map(rows -> Rows.first(rows, r -> r.getString("payload")))
        .map(
            p ->
                p == null
                    ? null
                    : Ed25519PublicKey.fromHex(
                        (String) ((Map<?, ?>) CanonicalJson.parse(p)).get("signing_public_key")));
  }

  public Ed25519PublicKey signingKey() {
    return Ed25519PublicKey.fromBytes(ed25519PublicKey);
  }

  /**
   * The device is {@code caller}'s, trusted, and its credential is signed by the current workspace
   * key and names its key.
   */
  public boolean trustedFor(UUID caller, Ed25519PublicKey workspaceKey) {
    if (!caller.equals(accountId) || !"trusted".equals(status) || credentialPayload == null) {
      return false;
    }
    try {
      workspaceKey.verify(credentialPayload.getBytes(StandardCharsets.UTF_8), credentialSignature);
      Object credKey =
          ((Map<?, ?>) CanonicalJson.parse(credentialPayload)).get("ed25519_public_key");
      return HexFormat.of().formatHex(ed25519PublicKey).equals(credKey);
    } catch (CryptoException | ClassCastException e) {
      return false; // its credential is of an earlier keyset: not trusted now
    }
  }
}
