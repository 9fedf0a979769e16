package dev.umbra.kit.audit;

import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.ActorKind;

/** Who did it: a member, a machine, a device, a service, or nobody identified. */
public record AuditActor(ActorKind kind, String id) {

  public static AuditActor member(String accountId) {
    return new AuditActor(ActorKind.ACTOR_KIND_MEMBER, accountId);
  }

  public static AuditActor machine(String machineId) {
    return new AuditActor(ActorKind.ACTOR_KIND_MACHINE, machineId);
  }

  public static AuditActor device(String deviceId) {
    return new AuditActor(ActorKind.ACTOR_KIND_DEVICE, deviceId);
  }

  public static AuditActor service(String serviceId) {
    return new AuditActor(ActorKind.ACTOR_KIND_SERVICE, serviceId);
  }

  /**
   * A caller that could not be identified (e.g. a refused token); the id may say what was tried.
   */
  public static AuditActor anonymous() {
    return new AuditActor(ActorKind.ACTOR_KIND_ANONYMOUS, "");
  }

  /** The actor as the audit event carries it. */
  public Actor toProto() {
    return Actor.newBuilder().setKind(kind).setId(id == null ? "" : id).build();
  }
}
