package dev.umbra.proto.api;

/**
 * The API's one error shape, {@code {"error":{"code","message","field"}}} with its HTTP status, as
 * an exception: the services throw it (the kit's {@code ApiException}, rendered at the edge) and
 * the clients read it back from an answer ({@code ApiError}). One definition of the fields for both
 * sides.
 */
public abstract class ApiFailure extends RuntimeException {
  private final int status;
  private final String code;
  private final String field;

  protected ApiFailure(int status, String code, String message, String field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /** The HTTP status (0 on a client: the service could not be reached). */
  public int status() {
    return status;
  }

  /** The machine-readable error code, e.g. {@code invalid_request}. */
  public String code() {
    return code;
  }

  /** The request member the error is about, or null. */
  public String field() {
    return field;
  }
}
