package dev.umbra.crypto;

/**
 * A tag, signature or keyed hash did not verify: the input was forged, corrupted or used in the
 * wrong context.
 */
public class AuthenticationFailedException extends CryptoException {
  public AuthenticationFailedException(String message) {
    super(message);
  }

  public AuthenticationFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
