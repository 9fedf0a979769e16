package dev.umbra.controlplane.notify;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.util.Objects;
import java.util.UUID;

/** The control plane's audit events about actions in a workspace (docs/audit.md). */
public final class AuditTrail {
  private final AuditEmitter emitter;
  private final AuditOutbox outbox;

  /** {@code outbox}: where {@link #memberWill} writes its events down. */
  public AuditTrail(AuditEmitter emitter, AuditOutbox outbox) {
    this.emitter = emitter;
    this.outbox = Objects.requireNonNull(outbox, "outbox");
  }

  /**
   * A member's action that will be committed in a transaction, audited so that no commit goes
   * unaudited (docs/audit.md, "Written down before appended"): the event is made now, {@link
   * Recorded#writtenWith} writes it down in the action's transaction, and {@link
   * Recorded#committed} appends it once that transaction committed ({@link
   * dev.umbra.controlplane.workspaces.Tenancy} does both for the work it runs). If the instance
   * dies (or Redis stays away) in between, any instance's outbox sweep appends it under the same
   * id. For the actions that change who may do what (revocations, trust, roles, membership, agents)
   * and those that touch a secret or the keys (the vault, keysets, Recovery Kits).
   */
  public Recorded memberWill(
      String sourceIp, UUID workspaceId, UUID accountId, AuditAction action, String target) {
    return recorded(workspaceId, memberEvent(sourceIp, workspaceId, accountId, action, target));
  }

  /** As {@link #memberWill(String, UUID, UUID, AuditAction, String)}, by the request's caller. */
  public Recorded memberWill(Caller caller, UUID workspaceId, AuditAction action, String target) {
    return memberWill(caller.sourceIp(), workspaceId, caller.accountId(), action, target);
  }

  /** As {@link #memberWill}, for a machine's action (a granted machine reading the vault). */
  public Recorded machineWill(
      String sourceIp, UUID workspaceId, UUID machineId, AuditAction action, String target) {
    return recorded(
        workspaceId,
        event(
            sourceIp,
            workspaceId,
            ActorKind.ACTOR_KIND_MACHINE,
            machineId,
            action,
            target,
            Outcome.OUTCOME_SUCCESS));
  }

  private Recorded recorded(UUID workspaceId, AuditEvent.Builder event) {
    try {
      return new Recorded(workspaceId, emitter.prepare(event), null);
    } catch (IllegalArgumentException refused) {
      return new Recorded(workspaceId, null, refused);
    }
  }

  /**
   * What an action produced, its event written down in its transaction (made there because it
   * depends on the outcome: the id an upsert kept, the entry a name found); {@link #committed} once
   * the transaction committed appends the event and gives the value.
   */
  public record Done<T>(T value, Recorded recorded) {
    public T committed() {
      recorded.committed();
      return value;
    }
  }

  /** An event of an action to be committed: see {@link #memberWill}. */
  public final class Recorded {
    private final UUID workspaceId;
    private final AuditEvent event;
    private final IllegalArgumentException refused;

    private Recorded(UUID workspaceId, AuditEvent event, IllegalArgumentException refused) {
      this.workspaceId = workspaceId;
      this.event = event;
      this.refused = refused;
    }

    /**
     * {@code work}'s outcome, after the event was written down on {@code conn} (the transaction of
     * {@code work}, its workspace setting made) when {@code work} succeeded. An event the emitter
     * refuses fails the action: what cannot be audited is not done.
     */
    public <T> Future<T> writtenWith(SqlConnection conn, Future<T> work) {
      if (refused != null) {
        return Future.failedFuture(refused);
      }
      return work.compose(x -> outbox.writeDown(conn, workspaceId, event).map(x));
    }

    /** {@code value}, with this event written down on {@code conn} (the action's transaction). */
    public <T> Future<Done<T>> writtenDown(SqlConnection conn, T value) {
      return writtenWith(conn, Future.succeededFuture(value)).map(v -> new Done<>(v, this));
    }

    /** The action's transaction committed: the event is appended, then its row deleted. */
    public void committed() {
      if (event != null) {
        emitter
            .emitPrepared(event)
            .onSuccess(appended -> outbox.emitted(workspaceId, event.getId()));
      }
    }
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
    emitter.emit(event(sourceIp, workspaceId, kind, actorId, action, target, outcome));
  }

  private static AuditEvent.Builder event(
      String sourceIp,
      UUID workspaceId,
      ActorKind kind,
      Object actorId,
      AuditAction action,
      String target,
      Outcome outcome) {
    return AuditEvent.newBuilder()
        .setWorkspaceId(workspaceId == null ? "" : workspaceId.toString())
        .setActor(Actor.newBuilder().setKind(kind).setId(actorId == null ? "" : actorId.toString()))
        .setAction(action.wire())
        .setTarget(target == null ? "" : target)
        .setOutcome(outcome)
        .setSourceIp(sourceIp == null ? "" : sourceIp);
  }

  /** A member's successful action. */
  public void memberDid(
      String sourceIp, UUID workspaceId, UUID accountId, AuditAction action, String target) {
    emitter.emit(memberEvent(sourceIp, workspaceId, accountId, action, target));
  }

  private static AuditEvent.Builder memberEvent(
      String sourceIp, UUID workspaceId, UUID accountId, AuditAction action, String target) {
    return event(
        sourceIp,
        workspaceId,
        ActorKind.ACTOR_KIND_MEMBER,
        accountId,
        action,
        target,
        Outcome.OUTCOME_SUCCESS);
  }
}
