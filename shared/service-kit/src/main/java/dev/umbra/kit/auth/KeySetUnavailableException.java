package dev.umbra.kit.auth;

/**
 * The control plane's key set was needed (a token names a key not cached) and could not be fetched:
 * the token is neither accepted nor called invalid; callers answer 503 (fail closed).
 */
public final class KeySetUnavailableException extends RuntimeException {
  public KeySetUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
