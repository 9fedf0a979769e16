package dev.umbra.crypto;

/**
 * A key file could not be read or written, or its permissions are unsafe; the message says how to
 * fix it.
 */
public class KeyFileException extends CryptoException {
  public KeyFileException(String message) {
    super(message);
  }

  public KeyFileException(String message, Throwable cause) {
    super(message, cause);
  }
}
