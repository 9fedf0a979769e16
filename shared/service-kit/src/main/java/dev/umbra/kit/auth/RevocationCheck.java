package dev.umbra.kit.auth;

/**
 * Answers, without waiting, whether a verified session token was revoked (implemented by {@code
 * dev.umbra.kit.revocation.RevocationList}; docs/security.md, "Revocation").
 */
@FunctionalInterface
public interface RevocationCheck {
  boolean isRevoked(SessionClaims claims);
}
