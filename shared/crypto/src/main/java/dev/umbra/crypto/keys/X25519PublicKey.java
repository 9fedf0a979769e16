package dev.umbra.crypto.keys;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.PublicBytes;

/** An X25519 public key (32-byte little-endian u-coordinate, RFC 7748). */
public final class X25519PublicKey extends PublicBytes {
  private X25519PublicKey(byte[] bytes) {
    super(bytes, CryptoConstants.X25519_KEY_LENGTH, "X25519 public key");
  }

  public static X25519PublicKey fromBytes(byte[] bytes) {
    return new X25519PublicKey(bytes);
  }

  public static X25519PublicKey fromHex(String hex) {
    return new X25519PublicKey(Bytes.unhex(hex));
  }
}
