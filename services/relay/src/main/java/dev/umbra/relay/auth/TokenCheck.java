package dev.umbra.relay.auth;

import dev.umbra.kit.auth.SessionClaims;
import io.vertx.core.Future;

/**
 * The one verification step of the relay: a bearer token in, the session's claims out (or a failed
 * future).
 */
@FunctionalInterface
public interface TokenCheck {
  Future<SessionClaims> verify(String token);
}
