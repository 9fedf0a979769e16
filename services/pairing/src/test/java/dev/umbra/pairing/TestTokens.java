package dev.umbra.pairing;

import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.TestSessionTokens;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;

/** Session tokens as the control plane would sign them (the kit's test signer). */
final class TestTokens {
  private final TestSessionTokens tokens = new TestSessionTokens();

  JsonObject jwks() {
    return tokens.jwks();
  }

  String session(UUID workspace, String role, String audience, Instant now) {
    return tokens.member(
        workspace, UUID.randomUUID().toString(), Role.parse(role).orElseThrow(), audience, now);
  }
}
