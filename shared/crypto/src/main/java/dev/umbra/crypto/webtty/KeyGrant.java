package dev.umbra.crypto.webtty;

import dev.umbra.crypto.MalformedInputException;
import java.util.Objects;

/**
 * A WebTTY payload key (output or input, {@link KeyRole}) wrapped for one recipient with HPKE:
 * public and safe to route and store. {@code ciphertext} is the HPKE AES-256-GCM output (32-byte
 * key + 16-byte tag).
 */
public record KeyGrant(
    KeyId recipientKeyId,
    KeyRole role,
    PayloadSuite payloadSuite,
    KeyEnvelopeSuite keyEnvelopeSuite,
    PayloadKeyId payloadKeyId,
    byte[] enc,
    byte[] ciphertext) {
  public KeyGrant {
    Objects.requireNonNull(recipientKeyId, "recipientKeyId");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(payloadSuite, "payloadSuite");
    Objects.requireNonNull(keyEnvelopeSuite, "keyEnvelopeSuite");
    Objects.requireNonNull(payloadKeyId, "payloadKeyId");
    if (enc == null || ciphertext == null) {
      throw new MalformedInputException("WebTTY key grant needs enc and ciphertext");
    }
    enc = enc.clone();
    ciphertext = ciphertext.clone();
  }

  /**
   * Builds a grant from wire values; unknown suite strings throw {@link
   * dev.umbra.crypto.UnsupportedSuiteException}.
   */
  public static KeyGrant fromWire(
      byte[] recipientKeyId,
      String role,
      String payloadSuite,
      String keyEnvelopeSuite,
      byte[] payloadKeyId,
      byte[] enc,
      byte[] ciphertext) {
    return new KeyGrant(
        KeyId.fromBytes(recipientKeyId),
        KeyRole.fromWireName(role),
        PayloadSuite.fromWireName(payloadSuite),
        KeyEnvelopeSuite.fromWireName(keyEnvelopeSuite),
        PayloadKeyId.fromBytes(payloadKeyId),
        enc,
        ciphertext);
  }

  @Override
  public byte[] enc() {
    return enc.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }
}
