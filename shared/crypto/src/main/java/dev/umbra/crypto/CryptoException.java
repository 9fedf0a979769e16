package dev.umbra.crypto;

/**
 * Root of every failure raised by umbra-crypto. Messages name what went wrong, never secret values.
 */
public class CryptoException extends RuntimeException {
  public CryptoException(String message) {
    super(message);
  }

  public CryptoException(String message, Throwable cause) {
    super(message, cause);
  }
}
