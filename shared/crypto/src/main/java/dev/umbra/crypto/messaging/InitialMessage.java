package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * X3DH's initial message (docs/messaging-crypto.md, "Initial message"):
 *
 * <pre>
 * u8 version (1) || sender identity (64) || sender identity binding signature (64)
 * || ephemeral key (32) || u32 spk_id || u8 has_opk (0|1) || [u32 opk_id]
 * || first ratchet message (header (41) || ciphertext)
 * </pre>
 */
public record InitialMessage(
    PublicIdentity sender,
    byte[] senderBindingSignature,
    X25519PublicKey ephemeralKey,
    long signedPrekeyId,
    OptionalLong oneTimePrekeyId,
    RatchetMessage message) {
  public InitialMessage {
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(senderBindingSignature, "senderBindingSignature");
    if (senderBindingSignature.length != CryptoConstants.ED25519_SIGNATURE_LENGTH) {
      throw Wire.malformed("signature must be 64 bytes");
    }
    senderBindingSignature = senderBindingSignature.clone();
    Objects.requireNonNull(ephemeralKey, "ephemeralKey");
    SignedPrekey.checkU32(signedPrekeyId, "signed prekey id");
    Objects.requireNonNull(oneTimePrekeyId, "oneTimePrekeyId");
    oneTimePrekeyId.ifPresent(id -> SignedPrekey.checkU32(id, "one-time prekey id"));
    Objects.requireNonNull(message, "message");
  }

  @Override
  public byte[] senderBindingSignature() {
    return senderBindingSignature.clone();
  }

  public byte[] encode() {
    Wire.Out out =
        new Wire.Out()
            .u8(CryptoConstants.MSG_VERSION)
            .bytes(sender.encode())
            .bytes(senderBindingSignature)
            .bytes(ephemeralKey.toBytes())
            .u32(signedPrekeyId)
            .u8(oneTimePrekeyId.isPresent() ? 1 : 0);
    oneTimePrekeyId.ifPresent(out::u32);
    return out.bytes(message.encode()).toBytes();
  }

  public static InitialMessage parse(byte[] encoded) {
    if (encoded != null && encoded.length > RatchetMessage.MAX_LENGTH + 256) {
      throw new MessageRefusedException(
          MessageRefusal.TOO_LARGE, "initial message over the size limit");
    }
    Wire w = Wire.of(encoded, "initial message");
    w.version();
    PublicIdentity sender = PublicIdentity.read(w);
    byte[] sig = w.bytes(CryptoConstants.ED25519_SIGNATURE_LENGTH);
    X25519PublicKey ek = w.x25519();
    long spkId = w.u32();
    OptionalLong opkId = w.flag() ? OptionalLong.of(w.u32()) : OptionalLong.empty();
    return new InitialMessage(sender, sig, ek, spkId, opkId, RatchetMessage.parse(w.rest()));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InitialMessage m && Arrays.equals(encode(), m.encode());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encode());
  }

  @Override
  public String toString() {
    return "InitialMessage[spk_id=" + signedPrekeyId + ", opk_id=" + oneTimePrekeyId + "]";
  }
}
