package dev.umbra.kit.auth;

import java.security.PublicKey;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;

/**
 * WebTTY session tokens as the control plane would sign them, over the kit's test signer: for the
 * engine's tests and the clients' end-to-end tests against an engine without a control plane.
 */
public final class WebTtyTestTokens {
  private final TestSessionTokens signer = new TestSessionTokens("webtty-test-key");

  public Map<String, PublicKey> keySet() {
    return signer.keyMap();
  }

  /** The key set a control plane would serve at /.well-known/jwks.json (engines in child JVMs). */
  public io.vertx.core.json.JsonObject jwks() {
    return signer.jwks();
  }

  public String member(UUID workspace, String subject, String role) {
    return token(workspace, subject, "member", role);
  }

  public String machine(UUID workspace, String machineId) {
    return token(workspace, machineId, "machine", "machine");
  }

  /** Raw role and kind strings, so tests can also mint tokens the engine must refuse. */
  private String token(UUID workspace, String subject, String kind, String role) {
    Instant now = Instant.now();
    return signer.sign(
        b ->
            b.audience("webtty-engine")
                .subject(subject)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(600)))
                .claim(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
                .claim(SessionTokens.CLAIM_SUBJECT_KIND, kind)
                .claim(SessionTokens.CLAIM_ROLE, role));
  }
}
