package dev.umbra.controlplane.notify;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import java.util.UUID;

/** The control plane's audit events about actions in a workspace (docs/audit.md). */
public final class AuditTrail {
  private final AuditEmitter emitter;

  public AuditTrail(AuditEmitter emitter) {
    this.emitter = emitter;
  }

  /**
   * Emits an event about an action in {@code workspaceId} (may be null); {@code sourceIp} "" when
   * unknown.
   */
  public void emit(
      String sourceIp,
      UUID workspaceId,
      ActorKind kind,
      Object actorId,
      AuditAction action,
      String target,
      Outcome outcome) {
    AuditEvent.Builder e =
        AuditEvent.newBuilder()
            .setWorkspaceId(workspaceId == null ? "" : workspaceId.toString())
            .setActor(
                Actor.newBuilder().setKind(kind).setId(actorId == null ? "" : actorId.toString()))
            .setAction(action.wire())
            .setTarget(target == null ? "" : target)
            .setOutcome(outcome)
            .setSourceIp(sourceIp == null ? "" : sourceIp);
    emitter.emit(e);
  }

  /** A member's successful action. */
  public void memberDid(
      String sourceIp, UUID workspaceId, UUID accountId, AuditAction action, String target) {
    emit(
        sourceIp,
        workspaceId,
        ActorKind.ACTOR_KIND_MEMBER,
        accountId,
        action,
        target,
        Outcome.OUTCOME_SUCCESS);
  }
}
