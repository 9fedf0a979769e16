package dev.umbra.kit.audit;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The enumerated list of audit actions (docs/audit.md lists the same, a test keeps them equal). The
 * wire form is {@code <object>.<verb>}; the audit service refuses any other string (the event goes
 * to the dead-letter table, counted). Add a constant here and a row in the doc to introduce one;
 * never rename or reuse a wire form, stored chains contain it.
 */
public enum AuditAction {
  WORKSPACE_CREATED("workspace.created", "a workspace was created"),
  WORKSPACE_UPDATED("workspace.updated", "workspace settings changed (name, PSK requirement, ...)"),

  MEMBER_INVITED("member.invited", "an invite was issued"),
  MEMBER_JOINED("member.joined", "an invite was accepted"),
  MEMBER_REMOVED("member.removed", "a member was removed"),
  MEMBER_ROLE_CHANGED("member.role_changed", "a member's role changed"),
  INVITE_REVOKED("invite.revoked", "an unused invite was revoked"),

  TEAM_CREATED("team.created", "a team was created"),
  TEAM_DELETED("team.deleted", "a team was deleted"),
  TEAM_MEMBER_ADDED("team.member_added", "a member was added to a team"),
  TEAM_MEMBER_REMOVED("team.member_removed", "a member was removed from a team"),

  SESSION_ISSUED("session.issued", "a session token was issued (sign-in, token exchange)"),
  SESSION_REFUSED(
      "session.refused", "a session token was refused (bad credentials, expired, replayed)"),

  TOKEN_CREATED("token.created", "an API token was created"),
  TOKEN_REVOKED("token.revoked", "an API token was revoked"),
  TOKEN_REFUSED("token.refused", "an API token was presented and refused"),

  DEVICE_TRUST_REQUESTED("device.trust_requested", "a device asked to be trusted"),
  DEVICE_APPROVED("device.approved", "a device was approved (trusted)"),
  DEVICE_REJECTED("device.rejected", "a device trust request was rejected"),
  DEVICE_REVOKED("device.revoked", "a trusted device was revoked"),

  KEYSET_ENVELOPE_ADDED("keyset.envelope_added", "the workspace keyset was wrapped for a device"),
  RECOVERY_KIT_CREATED("recovery_kit.created", "a Recovery Kit envelope was created"),
  RECOVERY_KIT_USED("recovery_kit.used", "a Recovery Kit was used to restore access"),

  PAIRING_CODE_CREATED("pairing.code_created", "a pairing code was issued"),
  PAIRING_CODE_REDEEMED("pairing.code_redeemed", "a pairing code was redeemed"),
  PAIRING_CODE_REFUSED(
      "pairing.code_refused", "a pairing code was refused (unknown, expired, used, bad PSK)"),
  PAIRING_CODE_CANCELLED("pairing.code_cancelled", "a pending pairing code was cancelled"),

  MACHINE_PAIRED("machine.paired", "a machine was paired to the workspace"),
  MACHINE_UNPAIRED("machine.unpaired", "a machine was removed from the workspace"),
  MACHINE_UPDATED("machine.updated", "a machine's name or settings changed"),
  MACHINE_TTY_POLICY_SET(
      "machine.tty_policy_set",
      "a machine's WebTTY server policy was set (new version; signed by a trusted device under Workspace Protection)"),

  VAULT_ENTRY_WRITTEN("vault.entry_written", "a context vault entry was written (ciphertext)"),
  VAULT_ENTRY_READ("vault.entry_read", "a context vault entry was fetched (ciphertext)"),
  VAULT_ENTRY_DELETED("vault.entry_deleted", "a context vault entry was deleted"),

  TERMINAL_OPENED("terminal.opened", "a terminal (WebTTY) session was opened on a machine"),
  TERMINAL_JOINED("terminal.joined", "a participant joined a terminal session"),
  TERMINAL_LEFT("terminal.left", "a participant left a terminal session"),
  TERMINAL_CONTROL_CHANGED(
      "terminal.control_changed", "the controller of a terminal session changed"),
  TERMINAL_CLOSED("terminal.closed", "a terminal session ended"),
  TERMINAL_REFUSED("terminal.refused", "a terminal session or participant was refused"),
  TERMINAL_RESUMED(
      "terminal.resumed",
      "an engine instance took a live terminal session over, or its home took its server back"),

  RECORDING_REPLAYED("recording.replayed", "a recording (ciphertext) was replayed"),
  RECORDING_EXPORTED("recording.exported", "a recording (ciphertext) was exported"),
  RECORDING_DELETED("recording.deleted", "a recording was deleted (retention)"),

  RELAY_CHANNEL_OPENED("relay.channel_opened", "a relay channel to a machine was opened"),
  RELAY_CHANNEL_CLOSED("relay.channel_closed", "a relay channel was closed"),
  RELAY_CHANNEL_REFUSED("relay.channel_refused", "a relay channel was refused"),
  TUNNEL_OPENED("tunnel.opened", "a tunnel through a machine was opened (reported by its daemon)"),
  TUNNEL_CLOSED(
      "tunnel.closed", "a tunnel was closed, with the bytes it carried (reported by its daemon)"),
  COMMAND_RUN(
      "command.run", "a command was run on a machine through the relay (reported by its daemon)"),
  AGENT_SESSION_ENDED(
      "agent_session.ended",
      "an agent session on a machine ended, with its exit status and bytes (reported by its daemon)"),

  POLICY_UPDATED("policy.updated", "a policy changed (WebTTY server policy, PSK rules, ...)"),
  ACCESS_DENIED("access.denied", "a request was refused for missing rights (role)"),

  AGENT_ENROLLED("agent.enrolled", "an agent asked to be enrolled (pending approval)"),
  AGENT_APPROVED("agent.approved", "an agent was approved with its verification code"),
  AGENT_REVOKED("agent.revoked", "an agent was revoked"),
  AGENT_MESSAGE_SENT(
      "agent.message.sent", "an owner-agent message (ciphertext) was stored for its recipients"),
  AGENT_MESSAGE_DELIVERED(
      "agent.message.delivered", "an owner-agent message was pushed to a live socket"),
  AGENT_MESSAGE_READ(
      "agent.message.read", "a recipient acknowledged owner-agent messages (rows deleted)"),

  PLAN_PUBLISHED("plan.published", "a plan was published for review (version 1)"),
  PLAN_REVISED("plan.revised", "a new version of a plan was published"),
  PLAN_COMMENTED("plan.commented", "a plan was commented on"),
  PLAN_APPROVED("plan.approved", "a member approved a plan's current version"),
  PLAN_CHANGES_REQUESTED(
      "plan.changes_requested", "a member requested changes to a plan's current version"),
  SHARE_GRANTED("share.granted", "a plan, inbox item or machine was shared with a team"),
  SHARE_REVOKED("share.revoked", "a team's share of a plan, inbox item or machine was removed"),
  INBOX_ITEM_RAISED("inbox.item_raised", "an agent raised an inbox item (a decision it waits for)"),
  INBOX_ITEM_DECIDED("inbox.item_decided", "a member decided an inbox item"),
  INBOX_ITEM_EXPIRED(
      "inbox.item_expired", "an inbox item passed its deadline and took its default"),

  WORKFLOW_PUT("workflow.put", "a member stored a signed workflow definition's next version"),
  WORKFLOW_DELETED("workflow.deleted", "a member deleted a workflow (its version is kept)"),
  WORKFLOW_RUN(
      "workflow.run",
      "a daemon ran a workflow whose signature it verified (outcome per its steps)"),
  WORKFLOW_REFUSED(
      "workflow.refused",
      "a daemon refused to run a workflow or to write it to a repository file (its signature did not verify against the pinned trust, or another reason)"),
  WORKFLOW_PROPOSED(
      "workflow.proposed",
      "a daemon proposed a revision edited in a repository file, or reported a conflict (unsigned: not runnable)"),

  AUDIT_EXPORTED("audit.exported", "the audit log was exported"),
  AUDIT_VERIFIED("audit.verified", "the audit chain was verified (outcome failure when broken)"),
  AUDIT_TAIL_OPENED("audit.tail_opened", "a live audit tail was opened");

  private static final Map<String, AuditAction> BY_WIRE =
      Stream.of(values())
          .collect(Collectors.toUnmodifiableMap(AuditAction::wire, Function.identity()));

  private final String wire;
  private final String description;

  AuditAction(String wire, String description) {
    this.wire = wire;
    this.description = description;
  }

  /** The stored and hashed form, e.g. {@code machine.paired}. */
  public String wire() {
    return wire;
  }

  public String description() {
    return description;
  }

  public static Optional<AuditAction> fromWire(String wire) {
    return Optional.ofNullable(wire == null ? null : BY_WIRE.get(wire));
  }
}
