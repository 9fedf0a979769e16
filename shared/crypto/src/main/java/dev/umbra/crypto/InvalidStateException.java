package dev.umbra.crypto;

/** An operation was called out of order or a state can no longer be used (e.g. nonce exhausted). */
public class InvalidStateException extends CryptoException {
  public InvalidStateException(String message) {
    super(message);
  }
}
