package dev.umbra.proto.api;

/**
 * An answer of an Umbra API that does not have the shape its record expects: a member missing, null
 * where a value is required, or of the wrong type. The message names the record and the member
 * (never its value, which may be a key or a token).
 */
public final class ResponseShapeException extends RuntimeException {
  public ResponseShapeException(String message) {
    super(message);
  }
}
