package dev.umbra.kit.auth;

/**
 * A valid session token that a revocation voids (its API token, member, machine, device or keyset).
 */
public final class RevokedSessionException extends InvalidSessionException {
  public RevokedSessionException() {
    super("session token revoked");
  }
}
