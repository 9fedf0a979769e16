package dev.umbra.controlplane.http;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.kit.http.ApiException;

/**
 * The edge: the one place a service's {@link Refusal} becomes an HTTP status and error code (404,
 * 401, 409, 403 and 429 with the reason's code, 400 invalid_request). Anything else passes through
 * unchanged to the kit's failure handler.
 */
public final class RefusalMapper {
  private RefusalMapper() {}

  public static Throwable toHttp(Throwable failure) {
    if (!(failure instanceof Refusal r)) {
      return failure;
    }
    return switch (r) {
      case Refusal.NotFound n -> new ApiException(404, n.reason().wire(), n.getMessage());
      case Refusal.Invalid i -> ApiException.badRequest(i.field(), i.getMessage());
      case Refusal.Unauthenticated u -> new ApiException(401, u.reason().wire(), u.getMessage());
      case Refusal.Conflict c ->
          new ApiException(409, c.reason().wire(), c.getMessage(), c.field());
      case Refusal.NotAllowed n ->
          new ApiException(403, n.reason().wire(), n.getMessage(), n.field());
      case Refusal.Full f -> new ApiException(429, f.reason().wire(), f.getMessage());
    };
  }
}
