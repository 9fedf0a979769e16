package dev.umbra.kit.auth;

import dev.umbra.kit.http.ApiException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * A route handler that admits only requests carrying a valid session token for this service ({@code
 * Authorization: Bearer <jwt>}) and leaves the claims in the context for the next handler.
 */
public final class SessionAuth implements Handler<RoutingContext> {
  private static final String KEY = "umbra.session";
  private final SessionVerifier verifier;

  public SessionAuth(SessionVerifier verifier) {
    this.verifier = verifier;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String token = bearer(ctx);
    if (token == null) {
      ctx.fail(
          ApiException.unauthorized("a session token is required (Authorization: Bearer ...)"));
      return;
    }
    verifier
        .verify(token)
        .onSuccess(
            claims -> {
              ctx.put(KEY, claims);
              ctx.next();
            })
        .onFailure(
            e ->
                ctx.fail(
                    e instanceof InvalidSessionException
                        ? ApiException.unauthorized(e.getMessage())
                        : ApiException.unavailable(
                            "session tokens cannot be checked right now; try again")));
  }

  /** The claims put by this handler. */
  public static SessionClaims claims(RoutingContext ctx) {
    SessionClaims c = ctx.get(KEY);
    if (c == null) {
      throw new IllegalStateException("SessionAuth did not run for " + ctx.request().path());
    }
    return c;
  }

  /** The bearer credential of the request, or null. */
  public static String bearer(RoutingContext ctx) {
    String auth = ctx.request().getHeader("authorization");
    if (auth == null || auth.length() < 8 || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String t = auth.substring(7).trim();
    return t.isEmpty() ? null : t;
  }
}
