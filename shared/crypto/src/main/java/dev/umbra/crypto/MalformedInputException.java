package dev.umbra.crypto;

/**
 * An input has the wrong length, encoding or structure (truncated, oversized, not on the curve...).
 */
public class MalformedInputException extends CryptoException {
  public MalformedInputException(String message) {
    super(message);
  }

  public MalformedInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
