package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import java.util.Arrays;
import java.util.Objects;

/**
 * One Double Ratchet message: {@code header (41) || ciphertext}, where ciphertext is
 * XChaCha20-Poly1305 output (plaintext length + 16-byte tag), at most {@link #MAX_LENGTH} in all.
 */
public record RatchetMessage(RatchetHeader header, byte[] ciphertext) {
  public static final int MAX_LENGTH =
      RatchetHeader.LENGTH
          + CryptoConstants.MSG_MAX_PLAINTEXT_LENGTH
          + CryptoConstants.AEAD_TAG_LENGTH;

  public RatchetMessage {
    Objects.requireNonNull(header, "header");
    Objects.requireNonNull(ciphertext, "ciphertext");
    if (ciphertext.length < CryptoConstants.AEAD_TAG_LENGTH) {
      throw Wire.malformed("ciphertext shorter than the tag");
    }
    if (RatchetHeader.LENGTH + ciphertext.length > MAX_LENGTH) {
      throw new MessageRefusedException(MessageRefusal.TOO_LARGE, "message over the size limit");
    }
    ciphertext = ciphertext.clone();
  }

  @Override
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  public byte[] encode() {
    return new Wire.Out().bytes(header.encode()).bytes(ciphertext).toBytes();
  }

  public static RatchetMessage parse(byte[] encoded) {
    if (encoded != null && encoded.length > MAX_LENGTH) {
      throw new MessageRefusedException(MessageRefusal.TOO_LARGE, "message over the size limit");
    }
    Wire w = Wire.of(encoded, "ratchet message");
    RatchetHeader h = RatchetHeader.read(w);
    return new RatchetMessage(h, w.rest());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RatchetMessage m && Arrays.equals(encode(), m.encode());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encode());
  }

  @Override
  public String toString() {
    return "RatchetMessage[pn="
        + header.pn()
        + ", n="
        + header.n()
        + ", "
        + ciphertext.length
        + " bytes]";
  }
}
