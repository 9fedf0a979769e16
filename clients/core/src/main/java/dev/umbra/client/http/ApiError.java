package dev.umbra.client.http;

import dev.umbra.proto.api.ApiFailure;

/** A service answered with the API's error shape (or could not be reached: status 0). */
public final class ApiError extends ApiFailure {
  public ApiError(int status, String code, String message, String field) {
    super(status, code, message, field);
  }

  /** One line for a person: the message, and the field when the service named one. */
  public String describe() {
    return getMessage()
        + (field() == null ? "" : " (field: " + field() + ")")
        + (status() > 0 ? " [HTTP " + status() + ", " + code() + "]" : "");
  }
}
