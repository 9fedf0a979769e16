package dev.umbra.crypto.sign;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/**
 * A canonical JSON payload and an Ed25519 signature over exactly its UTF-8 bytes, as carried on the
 * wire: {@code {"payload": "<canonical JSON text>", "signature": "<128 hex digits>"}}. The payload
 * travels as text so that the signed bytes are never re-encoded (docs/device-trust.md). The one
 * parser of signed trust payloads: the control plane checks request bodies with it ({@code
 * devices/SignedPayload}), clients and daemons verify with it; the payload types are {@link
 * TrustPayloadTypes}.
 */
public record Signed(String payload, byte[] signature) {
  /** Largest payload accepted from outside. */
  public static final int MAX_PAYLOAD = 4096;

  public Signed {
    if (payload == null || payload.isEmpty() || payload.length() > MAX_PAYLOAD) {
      throw new MalformedInputException(
          "signed payload is missing or longer than " + MAX_PAYLOAD + " characters");
    }
    if (signature == null || signature.length != 64) {
      throw new MalformedInputException("signature must be 64 bytes");
    }
    signature = signature.clone();
    String canonical;
    try {
      canonical = CanonicalJson.canonicalize(payload);
    } catch (CryptoException e) {
      throw new MalformedInputException("signed payload is not valid JSON: " + e.getMessage());
    }
    if (!canonical.equals(payload)) {
      throw new MalformedInputException("signed payload is not in canonical form");
    }
    if (!(CanonicalJson.parse(payload) instanceof Map<?, ?>)) {
      throw new MalformedInputException("signed payload must be a JSON object");
    }
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  /** Signs the canonical form of {@code fields}. */
  public static Signed sign(Map<String, Object> fields, Ed25519PrivateKey key) {
    String text = CanonicalJson.encodeToString(fields);
    return new Signed(text, key.sign(text.getBytes(StandardCharsets.UTF_8)));
  }

  /** Throws {@link CryptoException} unless {@code key} signed exactly this payload. */
  public void verify(Ed25519PublicKey key) {
    key.verify(payload.getBytes(StandardCharsets.UTF_8), signature);
  }

  public boolean verifies(Ed25519PublicKey key) {
    try {
      verify(key);
      return true;
    } catch (CryptoException e) {
      return false;
    }
  }

  @SuppressWarnings("unchecked")
  public Map<String, Object> fields() {
    return (Map<String, Object>) CanonicalJson.parse(payload);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("payload", payload)
        .put("signature", HexFormat.of().formatHex(signature));
  }

  /** Parses the wire form; anything malformed is a {@link MalformedInputException}. */
  public static Signed fromJson(JsonObject j) {
    if (j == null) {
      throw new MalformedInputException("signed object is missing");
    }
    for (String k : j.fieldNames()) {
      if (!k.equals("payload") && !k.equals("signature")) {
        throw new MalformedInputException(
            "unknown member in a signed object: " + (k.length() > 40 ? k.substring(0, 40) : k));
      }
    }
    Object p = j.getValue("payload");
    Object s = j.getValue("signature");
    if (!(p instanceof String payload) || !(s instanceof String sig) || sig.length() != 128) {
      throw new MalformedInputException(
          "a signed object needs a payload string and a 128-hex-digit signature");
    }
    try {
      return new Signed(payload, HexFormat.of().parseHex(sig));
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException("signature must be hex");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Signed s
        && s.payload.equals(payload)
        && Arrays.equals(s.signature, signature);
  }

  @Override
  public int hashCode() {
    return payload.hashCode();
  }
}
