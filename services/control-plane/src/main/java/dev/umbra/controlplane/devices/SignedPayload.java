package dev.umbra.controlplane.devices;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.kit.http.ApiException;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;

/**
 * A signed canonical JSON payload as it arrives in a request body ({@code {"payload": "<canonical
 * JSON text>", "signature": "<hex>"}}), checked before it is stored. The control plane's checks are
 * a second line: daemons and clients verify the same signatures against keys the control plane
 * never holds (docs/device-trust.md). Parsing is the shared {@link Signed} (one implementation for
 * the control plane and the clients); this adds the expected type and turns every refusal into a
 * 400 naming the request member.
 */
record SignedPayload(String field, Signed signed, Map<String, Object> fields) {
  static final int MAX_PAYLOAD = Signed.MAX_PAYLOAD;

  static SignedPayload parse(JsonObject body, String field, String type) {
    if (!(body.getValue(field) instanceof JsonObject o)) {
      throw ApiException.badRequest(field, field + " must be an object with payload and signature");
    }
    Signed signed;
    try {
      signed = Signed.fromJson(o);
    } catch (CryptoException e) {
      throw ApiException.badRequest(field, field + " is malformed: " + e.getMessage());
    }
    Map<String, Object> fields = signed.fields();
    if (!type.equals(fields.get("type"))) {
      throw ApiException.badRequest(field, field + ".payload must have type " + type);
    }
    return new SignedPayload(field, signed, fields);
  }

  String payload() {
    return signed.payload();
  }

  byte[] signature() {
    return signed.signature();
  }

  /** Throws a 400 naming the field unless {@code key} signed the payload. */
  void verify(Ed25519PublicKey key) {
    try {
      signed.verify(key);
    } catch (CryptoException e) {
      throw ApiException.badRequest(field, field + " has a bad signature");
    }
  }

  String str(String k) {
    if (!(fields.get(k) instanceof String s) || s.isEmpty() || s.length() > 256) {
      throw ApiException.badRequest(field, field + "." + k + " must be a non-empty string");
    }
    return s;
  }

  long num(String k) {
    if (!(fields.get(k) instanceof Number n)) {
      throw ApiException.badRequest(field, field + "." + k + " must be an integer");
    }
    return n.longValue();
  }

  UUID uuid(String k) {
    String s = str(k);
    try {
      UUID id = UUID.fromString(s);
      if (!id.toString().equalsIgnoreCase(s)) { // fromString is lenient about group lengths
        throw new IllegalArgumentException();
      }
      return id;
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + "." + k + " must be a UUID");
    }
  }

  Ed25519PublicKey ed25519(String k) {
    try {
      return Ed25519PublicKey.fromHex(str(k));
    } catch (CryptoException | IllegalArgumentException e) {
      throw ApiException.badRequest(
          field, field + "." + k + " must be a 32-byte Ed25519 key in hex");
    }
  }

  P256PublicKey p256(String k) {
    try {
      return P256PublicKey.fromHex(str(k));
    } catch (CryptoException | IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + "." + k + " must be a P-256 point in hex");
    }
  }

  JsonObject toJson() {
    return signed.toJson();
  }

  /** The wire form of a stored signed payload (checked when it was stored), or null. */
  static JsonObject json(String payload, byte[] signature) {
    return payload == null ? null : new Signed(payload, signature).toJson();
  }
}
