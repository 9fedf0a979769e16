package dev.umbra.crypto.keys;

import dev.umbra.crypto.UnsupportedSuiteException;

/** Kinds of key pair a key file can hold, with the name written in the file. */
public enum KeyType {
  X25519("x25519"),
  ED25519("ed25519"),
  P256("p256"),
  /** A symmetric Noise PSK (no public part). */
  NOISE_PSK("noise-psk");

  private final String fileName;

  KeyType(String fileName) {
    this.fileName = fileName;
  }

  public String fileName() {
    return fileName;
  }

  public static KeyType fromFileName(String name) {
    for (KeyType t : values()) {
      if (t.fileName.equals(name)) {
        return t;
      }
    }
    throw new UnsupportedSuiteException("unknown key type in key file: " + name);
  }
}
