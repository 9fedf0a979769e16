package dev.umbra.crypto.envelope;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.P256PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A workspace key sealed to one device or Recovery Kit key: suite, the sender's ephemeral P-256
 * public key (65-byte uncompressed), the 32-byte HKDF salt, the 12-byte AES-GCM nonce and {@code ct
 * || tag}. Public; the control plane stores it as is.
 */
public record WorkspaceKeyEnvelope(
    String suite, P256PublicKey ephemeralPublicKey, byte[] salt, byte[] nonce, byte[] ciphertext) {
  public WorkspaceKeyEnvelope {
    Objects.requireNonNull(suite, "suite");
    Objects.requireNonNull(ephemeralPublicKey, "ephemeralPublicKey");
    salt =
        Bytes.checkedCopy(
            salt, CryptoConstants.WORKSPACE_KEY_ENVELOPE_SALT_LENGTH, "envelope salt");
    nonce = Bytes.checkedCopy(nonce, CryptoConstants.GCM_NONCE_LENGTH, "envelope nonce");
    if (ciphertext == null || ciphertext.length < CryptoConstants.AEAD_TAG_LENGTH) {
      throw new MalformedInputException("envelope ciphertext is missing or shorter than the tag");
    }
    ciphertext = ciphertext.clone();
  }

  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  /**
   * Canonical JSON: {@code
   * {"ciphertext":hex,"ephemeral_public_key":hex,"nonce":hex,"salt":hex,"suite":..}}.
   */
  public byte[] toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("suite", suite);
    m.put("ephemeral_public_key", ephemeralPublicKey.toHex());
    m.put("salt", Bytes.hex(salt));
    m.put("nonce", Bytes.hex(nonce));
    m.put("ciphertext", Bytes.hex(ciphertext));
    return CanonicalJson.encode(m);
  }

  /** Parses {@link #toJson()} output; the suite is checked when opening, not here. */
  public static WorkspaceKeyEnvelope fromJson(byte[] json) {
    if (!(CanonicalJson.parse(json) instanceof Map<?, ?> m)) {
      throw new MalformedInputException("workspace key envelope must be a JSON object");
    }
    return new WorkspaceKeyEnvelope(
        text(m, "suite"),
        P256PublicKey.fromHex(text(m, "ephemeral_public_key")),
        Bytes.unhex(text(m, "salt")),
        Bytes.unhex(text(m, "nonce")),
        Bytes.unhex(text(m, "ciphertext")));
  }

  private static String text(Map<?, ?> m, String field) {
    if (!(m.get(field) instanceof String s)) {
      throw new MalformedInputException(
          "workspace key envelope field " + field + " is missing or not a string");
    }
    return s;
  }
}
