package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.Objects;

/**
 * A one-time prekey as published (unsigned, as in X3DH): {@code u32 id || x25519 (32)}, 36 bytes.
 * The server hands each out once.
 */
public record PublicOneTimePrekey(long id, X25519PublicKey key) {
  public static final int LENGTH = 4 + CryptoConstants.X25519_KEY_LENGTH;

  public PublicOneTimePrekey {
    SignedPrekey.checkU32(id, "one-time prekey id");
    Objects.requireNonNull(key, "key");
  }

  public byte[] encode() {
    return new Wire.Out().u32(id).bytes(key.toBytes()).toBytes();
  }

  public static PublicOneTimePrekey parse(byte[] encoded) {
    Wire w = Wire.of(encoded, "one-time prekey");
    PublicOneTimePrekey p = read(w);
    w.end("one-time prekey");
    return p;
  }

  static PublicOneTimePrekey read(Wire w) {
    return new PublicOneTimePrekey(w.u32(), w.x25519());
  }
}
