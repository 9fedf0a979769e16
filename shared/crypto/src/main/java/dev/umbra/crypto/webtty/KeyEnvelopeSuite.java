package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.UnsupportedSuiteException;

/** WebTTY key envelope (grant) suites; only HPKE base X25519/HKDF-SHA256/AES-256-GCM exists. */
public enum KeyEnvelopeSuite {
  HPKE_X25519_HKDF_SHA256_AES_256_GCM(CryptoConstants.SUITE_HPKE_X25519_HKDF_SHA256_AES_256_GCM);

  private final String wireName;

  KeyEnvelopeSuite(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static KeyEnvelopeSuite fromWireName(String name) {
    for (KeyEnvelopeSuite s : values()) {
      if (s.wireName.equals(name)) {
        return s;
      }
    }
    throw new UnsupportedSuiteException("unsupported WebTTY key envelope suite: " + name);
  }
}
