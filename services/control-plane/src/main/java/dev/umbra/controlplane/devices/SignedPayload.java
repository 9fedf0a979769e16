package dev.umbra.controlplane.devices;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.kit.http.ApiException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

/**
 * A signed canonical JSON payload as it arrives in a request body
 * ({@code {"payload": "<canonical JSON text>", "signature": "<hex>"}}), checked before it is
 * stored. The control plane's checks are a second line: daemons and clients verify the same
 * signatures against keys the control plane never holds (docs/device-trust.md).
 */
record SignedPayload(String field, String payload, Map<String, Object> fields, byte[] signature) {
  static final int MAX_PAYLOAD = 4096;

  @SuppressWarnings("unchecked")
  static SignedPayload parse(JsonObject body, String field, String type) {
    Object v = body.getValue(field);
    if (!(v instanceof JsonObject o)) {
      throw ApiException.badRequest(field, field + " must be an object with payload and signature");
    }
    for (String k : o.fieldNames()) {
      if (!k.equals("payload") && !k.equals("signature")) {
        throw ApiException.badRequest(field, field + " has an unknown member");
      }
    }
    if (!(o.getValue("payload") instanceof String p) || p.isEmpty() || p.length() > MAX_PAYLOAD) {
      throw ApiException.badRequest(field, field + ".payload must be a canonical JSON string of at most " + MAX_PAYLOAD + " characters");
    }
    if (!(o.getValue("signature") instanceof String s) || s.length() != 128) {
      throw ApiException.badRequest(field, field + ".signature must be 128 hex digits");
    }
    byte[] sig;
    Map<String, Object> fields;
    try {
      sig = HexFormat.of().parseHex(s);
      if (!CanonicalJson.canonicalize(p).equals(p) || !(CanonicalJson.parse(p) instanceof Map<?, ?> m)) {
        throw ApiException.badRequest(field, field + ".payload must be a canonical JSON object");
      }
      fields = (Map<String, Object>) m;
    } catch (IllegalArgumentException | CryptoException e) {
      throw ApiException.badRequest(field, field + " is malformed");
    }
    if (!type.equals(fields.get("type"))) {
      throw ApiException.badRequest(field, field + ".payload must have type " + type);
    }
    return new SignedPayload(field, p, fields, sig);
  }

  /** Throws a 400 naming the field unless {@code key} signed the payload. */
  void verify(Ed25519PublicKey key) {
    try {
      key.verify(payload.getBytes(StandardCharsets.UTF_8), signature);
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
      throw ApiException.badRequest(field, field + "." + k + " must be a 32-byte Ed25519 key in hex");
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
    return new JsonObject().put("payload", payload).put("signature", HexFormat.of().formatHex(signature));
  }

  static JsonObject json(String payload, byte[] signature) {
    return payload == null ? null : new JsonObject().put("payload", payload).put("signature", HexFormat.of().formatHex(signature));
  }
}
