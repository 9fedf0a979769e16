package dev.umbra.kit.http;

import dev.umbra.proto.api.ApiFailure;

/**
 * A failure that becomes an HTTP response with the one error shape of the API: {@code
 * {"error":{"code","message","field"}}}. Thrown or failed inside handlers; translated only at the
 * edge by {@link ServiceHttp}.
 */
public class ApiException extends ApiFailure {
  public ApiException(int status, String code, String message, String field) {
    super(status, code, message, field);
  }

  public ApiException(int status, String code, String message) {
    this(status, code, message, null);
  }

  public static ApiException badRequest(String field, String message) {
    return new ApiException(400, "invalid_request", message, field);
  }

  public static ApiException notFound(String what) {
    return new ApiException(404, "not_found", what + " not found");
  }

  public static ApiException unauthorized(String message) {
    return new ApiException(401, "unauthorized", message);
  }

  public static ApiException forbidden(String message) {
    return new ApiException(403, "forbidden", message);
  }

  public static ApiException conflict(String message) {
    return new ApiException(409, "conflict", message);
  }

  public static ApiException tooManyRequests(String message) {
    return new ApiException(429, "rate_limited", message);
  }

  public static ApiException unavailable(String message) {
    return new ApiException(503, "unavailable", message);
  }
}
