package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.Objects;

/**
 * A Double Ratchet header: {@code u8 version (1) || dh (32) || u32 pn || u32 n}, 41 bytes. {@code
 * dh} is the sender's current ratchet public key, {@code pn} the length of its previous sending
 * chain, {@code n} this message's number in the current chain.
 */
public record RatchetHeader(X25519PublicKey dh, long pn, long n) {
  public static final int LENGTH = 1 + CryptoConstants.X25519_KEY_LENGTH + 4 + 4;

  public RatchetHeader {
    Objects.requireNonNull(dh, "dh");
    SignedPrekey.checkU32(pn, "pn");
    SignedPrekey.checkU32(n, "n");
  }

  public byte[] encode() {
    return new Wire.Out()
        .u8(CryptoConstants.MSG_VERSION)
        .bytes(dh.toBytes())
        .u32(pn)
        .u32(n)
        .toBytes();
  }

  public static RatchetHeader parse(byte[] encoded) {
    Wire w = Wire.of(encoded, "ratchet header");
    RatchetHeader h = read(w);
    w.end("ratchet header");
    return h;
  }

  static RatchetHeader read(Wire w) {
    w.version();
    return new RatchetHeader(w.x25519(), w.u32(), w.u32());
  }
}
