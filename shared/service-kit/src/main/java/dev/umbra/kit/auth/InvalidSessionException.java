package dev.umbra.kit.auth;

/** A session token that is malformed, badly signed, expired, or not for this service. */
public class InvalidSessionException extends RuntimeException {
  public InvalidSessionException(String message) {
    super(message);
  }

  public InvalidSessionException(String message, Throwable cause) {
    super(message, cause);
  }
}
