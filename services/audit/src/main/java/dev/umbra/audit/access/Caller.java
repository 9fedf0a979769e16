package dev.umbra.audit.access;

import dev.umbra.kit.audit.AuditActor;

/** Who an authorized audit API request speaks for. */
public record Caller(AuditActor actor, boolean deploymentAdmin) {

  public static Caller operator() {
    return new Caller(AuditActor.service("deployment-admin"), true);
  }
}
