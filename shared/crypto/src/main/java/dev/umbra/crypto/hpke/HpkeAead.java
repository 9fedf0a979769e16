package dev.umbra.crypto.hpke;

import org.bouncycastle.crypto.hpke.HPKE;

/**
 * HPKE AEAD identifiers (RFC 9180 §7.3) that this library can run with DHKEM(X25519, HKDF-SHA256) +
 * HKDF-SHA256.
 */
public enum HpkeAead {
  AES_128_GCM(HPKE.aead_AES_GCM128),
  AES_256_GCM(HPKE.aead_AES_GCM256),
  CHACHA20_POLY1305(HPKE.aead_CHACHA20_POLY1305);

  private final short id;

  HpkeAead(short id) {
    this.id = id;
  }

  public short id() {
    return id;
  }

  public static HpkeAead fromId(int id) {
    for (HpkeAead a : values()) {
      if (a.id == id) {
        return a;
      }
    }
    throw new dev.umbra.crypto.UnsupportedSuiteException("unsupported HPKE AEAD id " + id);
  }
}
