package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.envelope.WorkspaceKeyEnvelope;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.TrustPayloadTypes;
import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;

/**
 * The signed documents of Workspace Protection as the control plane admits them
 * (docs/device-trust.md): each check names the request member at fault. Pure (no storage); the
 * checks against stored keys take them as arguments. Signatures are checked here as a second line:
 * daemons and clients verify them against keys the control plane never holds.
 */
final class TrustDocuments {
  static final String KEYSET = TrustPayloadTypes.KEYSET;
  static final String REQUEST = TrustPayloadTypes.DEVICE_REQUEST;
  static final String CREDENTIAL = TrustPayloadTypes.DEVICE_CREDENTIAL;
  static final String REVOCATION = TrustPayloadTypes.DEVICE_REVOCATION;
  static final String RECOVERY_KIT = TrustPayloadTypes.RECOVERY_KIT;
  static final String WEBTTY_KEY = TrustPayloadTypes.DEVICE_WEBTTY_KEY;

  /** How far a device request's timestamp may be from the server's clock. */
  static final Duration REQUEST_SKEW = Duration.ofMinutes(10);

  static final Set<String> KINDS = Set.of("cli", "daemon", "browser");
  static final int MAX_ENVELOPE_CIPHERTEXT = 16_384;

  private TrustDocuments() {}

  /**
   * A keyset document ({@code umbra-keyset/v1}) of this workspace; its signature is checked by the
   * caller (self or previous key).
   */
  record Keyset(SignedPayload signed, int version, Ed25519PublicKey signingKey) {}

  /**
   * A device's signed request to be trusted ({@code umbra-device-request/v1}), signed by the
   * device.
   */
  record DeviceRequest(
      SignedPayload request,
      UUID id,
      Ed25519PublicKey signingKey,
      P256PublicKey envelopeKey,
      String name,
      String kind) {}

  static Keyset keyset(JsonObject body, UUID wid) {
    SignedPayload k = SignedPayload.parse(body, "keyset", KEYSET);
    if (!k.uuid("workspace_id").equals(wid)) {
      throw Refusal.invalid("keyset", "keyset.workspace_id must be this workspace");
    }
    long v = k.num("version");
    if (v < 1 || v > Integer.MAX_VALUE) {
      throw Refusal.invalid("keyset", "keyset.version must be a positive integer");
    }
    Ed25519PublicKey signing = k.ed25519("signing_public_key");
    try {
      X25519PublicKey.fromHex(k.str("encryption_public_key"));
    } catch (CryptoException | IllegalArgumentException e) {
      throw Refusal.invalid(
          "keyset", "keyset.encryption_public_key must be a 32-byte X25519 key in hex");
    }
    k.str("created_at");
    return new Keyset(k, (int) v, signing);
  }

  /**
   * A device request of this workspace, timestamped within {@link #REQUEST_SKEW} of {@code clock},
   * signed by the device.
   */
  static DeviceRequest request(JsonObject body, UUID wid, Clock clock) {
    SignedPayload r = SignedPayload.parse(body, "request", REQUEST);
    if (!r.uuid("workspace_id").equals(wid)) {
      throw Refusal.invalid("request", "request.workspace_id must be this workspace");
    }
    Ed25519PublicKey ed = r.ed25519("ed25519_public_key");
    P256PublicKey p256 = r.p256("p256_public_key");
    String name = r.str("name");
    if (name.length() > Requests.MAX_NAME || name.chars().anyMatch(Character::isISOControl)) {
      throw Refusal.invalid(
          "request", "request.name must be 1 to " + Requests.MAX_NAME + " printable characters");
    }
    String kind = r.str("kind");
    if (!KINDS.contains(kind)) {
      throw Refusal.invalid("request", "request.kind must be one of cli, daemon, browser");
    }
    if (Math.abs(clock.millis() - r.num("timestamp_ms")) > REQUEST_SKEW.toMillis()) {
      throw Refusal.invalid("request", "request.timestamp_ms is too far from the server's clock");
    }
    r.verify(ed);
    return new DeviceRequest(r, r.uuid("device_id"), ed, p256, name, kind);
  }

  /**
   * A credential naming exactly this device, its keys and {@code version}, signed by {@code
   * signer}.
   */
  static SignedPayload credential(
      JsonObject body,
      String field,
      UUID wid,
      UUID deviceId,
      byte[] ed,
      byte[] p256,
      int version,
      Ed25519PublicKey signer) {
    SignedPayload c = SignedPayload.parse(body, field, CREDENTIAL);
    if (!c.uuid("workspace_id").equals(wid) || !c.uuid("device_id").equals(deviceId)) {
      throw Refusal.invalid(field, field + " is for another workspace or device");
    }
    if (!Arrays.equals(c.ed25519("ed25519_public_key").toBytes(), ed)
        || !Arrays.equals(c.p256("p256_public_key").toBytes(), p256)) {
      throw Refusal.invalid(field, field + " names other keys than the device's");
    }
    if (c.num("keyset_version") != version) {
      throw Refusal.invalid(
          field, field + ".keyset_version must be the current version " + version);
    }
    c.str("issued_at");
    c.verify(signer);
    return c;
  }

  /**
   * A revocation of exactly this device in this workspace; its signature is checked against the
   * current key by the service.
   */
  static SignedPayload revocation(JsonObject body, UUID wid, UUID deviceId) {
    SignedPayload rev = SignedPayload.parse(body, "revocation", REVOCATION);
    if (!rev.uuid("workspace_id").equals(wid) || !rev.uuid("device_id").equals(deviceId)) {
      throw Refusal.invalid("revocation", "revocation is for another workspace or device");
    }
    rev.str("revoked_at");
    return rev;
  }

  /**
   * A Recovery Kit of this workspace (and of {@code kitId} unless null), signed by {@code signer}.
   */
  static SignedPayload kit(JsonObject body, UUID wid, UUID kitId, Ed25519PublicKey signer) {
    SignedPayload k = SignedPayload.parse(body, "kit", RECOVERY_KIT);
    if (!k.uuid("workspace_id").equals(wid) || (kitId != null && !k.uuid("kit_id").equals(kitId))) {
      throw Refusal.invalid("kit", "kit is for another workspace or kit");
    }
    k.p256("p256_public_key");
    k.str("created_at");
    k.verify(signer);
    return k;
  }

  /**
   * A device's WebTTY key binding: exactly its fields, this workspace and device; the device's
   * signature is checked by the service against the stored device key.
   */
  static SignedPayload webttyKey(JsonObject body, UUID wid, UUID deviceId) {
    SignedPayload k = SignedPayload.parse(body, "webtty_key", WEBTTY_KEY);
    if (!Set.of("type", "workspace_id", "device_id", "x25519_public_key", "issued_at")
        .equals(k.fields().keySet())) {
      throw Refusal.invalid(
          "webtty_key",
          "webtty_key.payload has exactly type, workspace_id, device_id, x25519_public_key, issued_at");
    }
    if (!k.uuid("workspace_id").equals(wid) || !k.uuid("device_id").equals(deviceId)) {
      throw Refusal.invalid("webtty_key", "webtty_key names another workspace or device");
    }
    k.str("issued_at");
    try {
      X25519PublicKey.fromHex(k.str("x25519_public_key"));
    } catch (CryptoException | IllegalArgumentException e) {
      throw Refusal.invalid(
          "webtty_key", "webtty_key.x25519_public_key must be a 32-byte X25519 key in hex");
    }
    return k;
  }

  /** A keyset envelope (canonical JSON object, docs/crypto.md), re-encoded canonically. */
  static String envelope(JsonObject body, String field) {
    if (!(body.getValue(field) instanceof JsonObject o)) {
      throw Refusal.invalid(field, field + " must be a workspace key envelope object");
    }
    WorkspaceKeyEnvelope e;
    try {
      e = WorkspaceKeyEnvelope.fromJson(o.encode().getBytes(StandardCharsets.UTF_8));
    } catch (CryptoException | IllegalArgumentException x) {
      throw Refusal.invalid(field, field + " is not a valid workspace key envelope");
    }
    if (e.ciphertext().length > MAX_ENVELOPE_CIPHERTEXT) {
      throw Refusal.invalid(field, field + " is too large");
    }
    try {
      return new String(e.toJson(), StandardCharsets.UTF_8);
    } catch (CryptoException | IllegalArgumentException x) {
      throw Refusal.invalid(field, field + " is not a valid workspace key envelope");
    }
  }
}
