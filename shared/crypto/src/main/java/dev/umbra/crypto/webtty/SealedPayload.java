package dev.umbra.crypto.webtty;

import dev.umbra.crypto.MalformedInputException;
import java.util.Objects;

/**
 * One encrypted WebTTY payload (v2) as carried in a frame: stream, suite, payload key id, the
 * sender's key id, the sender's counter for this key (from 0, +1 per payload), the 12-byte nonce,
 * {@code ct || tag}, and the plaintext length. Everything but the ciphertext is visible frame
 * metadata, and all of it is bound into the AAD.
 *
 * <p>On the hot path of every terminal frame, so the record takes ownership of the arrays given to
 * its constructor (no copy: do not modify them afterwards); its accessors return copies.
 */
public record SealedPayload(
    Stream stream,
    PayloadSuite suite,
    PayloadKeyId payloadKeyId,
    KeyId senderKeyId,
    long counter,
    byte[] nonce,
    byte[] ciphertext,
    long plaintextLength) {
  public SealedPayload {
    Objects.requireNonNull(stream, "stream");
    Objects.requireNonNull(suite, "suite");
    Objects.requireNonNull(payloadKeyId, "payloadKeyId");
    Objects.requireNonNull(senderKeyId, "senderKeyId");
    if (nonce == null || ciphertext == null) {
      throw new MalformedInputException("sealed WebTTY payload needs nonce and ciphertext");
    }
    if (plaintextLength < 0) {
      throw new MalformedInputException("negative WebTTY plaintext length");
    }
    if (counter < 0) {
      // u64 on the wire; 2^63 and above would take 2^63 payloads to reach: refused, never wrapped
      throw new MalformedInputException("WebTTY payload counter out of range");
    }
  }

  /**
   * Builds from wire values; unknown suite or stream strings and ids of the wrong length are
   * rejected (a v1 payload, which has no sender key id, is refused here as malformed).
   */
  public static SealedPayload fromWire(
      String stream,
      String suite,
      byte[] payloadKeyId,
      byte[] senderKeyId,
      long counter,
      byte[] nonce,
      byte[] ciphertext,
      long plaintextLength) {
    return new SealedPayload(
        Stream.fromWireName(stream),
        PayloadSuite.fromWireName(suite),
        PayloadKeyId.fromBytes(payloadKeyId),
        KeyId.fromBytes(senderKeyId),
        counter,
        nonce,
        ciphertext,
        plaintextLength);
  }

  /** The internal arrays, for PayloadCipher's hot path only (no copies); never modified there. */
  byte[] nonceView() {
    return nonce;
  }

  byte[] ciphertextView() {
    return ciphertext;
  }

  @Override
  public byte[] nonce() {
    return nonce.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }
}
