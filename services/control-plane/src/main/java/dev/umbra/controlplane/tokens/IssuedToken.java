package dev.umbra.controlplane.tokens;

import dev.umbra.controlplane.auth.TokenScope;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A token just stored, with its secret: shown once in the answer that made it, never again. */
public record IssuedToken(
    UUID id, String name, TokenScope scope, OffsetDateTime createdAt, String token) {
  @Override
  public String toString() {
    return "IssuedToken[" + id + ", redacted]";
  }
}
