package dev.umbra.crypto;

/**
 * A suite, protocol name or algorithm identifier is unknown or not allowed here. Never falls back.
 */
public class UnsupportedSuiteException extends CryptoException {
  public UnsupportedSuiteException(String message) {
    super(message);
  }
}
