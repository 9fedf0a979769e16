package dev.umbra.controlplane.sharing;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventBuilder;
import dev.umbra.kit.auth.Role;
import java.util.UUID;

/**
 * Who acts on agent work, as checked in the request's transaction (docs/agents.md, "Access"): a
 * member (by API token, or by a session of one of their trusted devices) with their role in the
 * workspace and whether the credential may write, or an approved agent of a machine not revoked.
 * {@code memberId} is the member row (teams list it); {@code accountId} the account. For an agent
 * both are null and {@code role} is null. {@code sourceIp} is the request's, for audit events.
 */
public record Actor(
    Kind kind,
    UUID accountId,
    UUID memberId,
    Role role,
    boolean mayWrite,
    UUID agentId,
    UUID machineId,
    String sourceIp) {

  /** No member: a nil id that matches no team membership. */
  static final UUID NOBODY = new UUID(0, 0);

  /** The two kinds of author of agent work. */
  public enum Kind {
    MEMBER("member"),
    AGENT("agent");

    private final String wire;

    Kind(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }
  }

  static Actor member(UUID accountId, UUID memberId, Role role, boolean mayWrite, String sourceIp) {
    return new Actor(Kind.MEMBER, accountId, memberId, role, mayWrite, null, null, sourceIp);
  }

  static Actor agent(UUID agentId, UUID machineId, String sourceIp) {
    return new Actor(Kind.AGENT, null, null, null, true, agentId, machineId, sourceIp);
  }

  public boolean isAgent() {
    return kind == Kind.AGENT;
  }

  /** An admin or owner sees and decides everything of the workspace. */
  public boolean isAdmin() {
    return kind == Kind.MEMBER && role.atLeast(Role.ADMIN);
  }

  /** A member whose role and credential allow acting (commenting, deciding, approving). */
  public boolean mayAct() {
    return kind == Kind.MEMBER && mayWrite && role.atLeast(Role.MEMBER);
  }

  /** The author id stored with what this actor writes: the account, or the agent. */
  public UUID authorId() {
    return kind == Kind.AGENT ? agentId : accountId;
  }

  /** The member row teams list, or a nil id for an agent. */
  public UUID memberOrNobody() {
    return memberId == null ? NOBODY : memberId;
  }

  /** Whether this actor wrote something stored with {@code kind} and {@code id}. */
  public boolean isAuthor(String authorKind, UUID authorId) {
    return kind.wire().equals(authorKind) && authorId().equals(authorId);
  }

  /**
   * A successful action of this actor in {@code wid} on {@code kind:id}, ready for more metadata;
   * an agent's events name the agent in metadata {@code agent}.
   */
  public AuditEventBuilder audited(
      AuditEmitter audit, AuditAction action, UUID wid, String kind, Object id) {
    AuditEventBuilder e =
        audit
            .event(action)
            .workspace(wid)
            .actor(auditActor())
            .target(kind, id)
            .sourceIp(sourceIp)
            .success();
    return isAgent() ? e.meta("agent", agentId.toString()) : e;
  }

  /** The audit actor: the member's account, or (as for messaging) the agent's machine. */
  public AuditActor auditActor() {
    return kind == Kind.AGENT
        ? AuditActor.machine(machineId.toString())
        : AuditActor.member(accountId.toString());
  }
}
