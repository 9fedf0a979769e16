package dev.umbra.client.http;

/** A service answered with the API's error shape (or could not be reached: status 0). */
public final class ApiError extends RuntimeException {
  private final int status;
  private final String code;
  private final String field;

  public ApiError(int status, String code, String message, String field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String field() {
    return field;
  }

  /** One line for a person: the message, and the field when the service named one. */
  public String describe() {
    return getMessage()
        + (field == null ? "" : " (field: " + field + ")")
        + (status > 0 ? " [HTTP " + status + ", " + code + "]" : "");
  }
}
