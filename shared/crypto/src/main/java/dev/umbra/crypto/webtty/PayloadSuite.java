package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.UnsupportedSuiteException;

/**
 * WebTTY payload suites; only AES-256-GCM exists. Unknown strings are rejected, never defaulted.
 */
public enum PayloadSuite {
  AES_256_GCM(CryptoConstants.SUITE_AES_256_GCM);

  private final String wireName;

  PayloadSuite(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static PayloadSuite fromWireName(String name) {
    for (PayloadSuite s : values()) {
      if (s.wireName.equals(name)) {
        return s;
      }
    }
    throw new UnsupportedSuiteException("unsupported WebTTY payload suite: " + name);
  }
}
