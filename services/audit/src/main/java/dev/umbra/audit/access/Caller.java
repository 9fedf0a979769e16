package dev.umbra.audit.access;

import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.auth.SessionClaims;

/**
 * Who an authorized audit API request speaks for.
 *
 * @param session the verified session token (null for the deployment operator), which a revocation
 *     is matched against to close the caller's live tail
 */
public record Caller(AuditActor actor, boolean deploymentAdmin, SessionClaims session) {

  public static Caller operator() {
    return new Caller(AuditActor.service("deployment-admin"), true, null);
  }
}
