package dev.umbra.crypto.sign;

import dev.umbra.crypto.CryptoConstants;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.StringJoiner;
import java.util.UUID;

/**
 * The bytes a paired machine signs with its binding key to call the control plane's machine routes
 * (docs/machines.md): the request's type line, then the workspace, the machine, the timestamp and
 * the route's own fields, one per line. Defined once for the daemon that signs and the control
 * plane that verifies; the type line keeps a signature for one route from passing at another.
 */
public final class MachineRequests {
  /** {@code POST /v1/machine-sessions}: a session token for an audience. */
  public static final String SESSION = "umbra-machine-session/v1";

  /** {@code POST /v1/machine-trust}: the workspace's trust material. */
  public static final String TRUST = "umbra-machine-trust/v1";

  /** {@code POST /v1/machine-vault}: one vault entry granted to the machine. */
  public static final String VAULT = "umbra-machine-vault/v1";

  /** {@code POST /v1/machine-tty-policy}: the machine's WebTTY policy. */
  public static final String TTY_POLICY = CryptoConstants.MACHINE_TTY_POLICY_REQUEST;

  /** {@code POST /v1/machine-audit}: an audit report of the machine. */
  public static final String AUDIT = "umbra-machine-audit/v1";

  /**
   * {@code POST /v1/agent-enrolments}: signed by the machine's binding key and by the new agent's
   * own key (docs/messaging.md).
   */
  public static final String AGENT_ENROLMENT = "umbra-agent-enrol/v1";

  /** {@code POST /v1/agent-sessions}: signed by an approved agent's key. */
  public static final String AGENT_SESSION = "umbra-agent-session/v1";

  /** A daemon fetching a workflow definition to run (docs/agents.md, "Workflows"). */
  public static final String WORKFLOW = "umbra-machine-workflow/v1";

  /** A daemon reporting a workflow run: the canonical JSON of the report follows. */
  public static final String WORKFLOW_RUN = "umbra-machine-workflow-run/v1";

  /**
   * A daemon raising an inbox item for an agent session's runtime (docs/agents.md, "Inbox items
   * from a runtime"): the canonical JSON of the item follows.
   */
  public static final String INBOX = "umbra-machine-inbox/v1";

  /** A daemon waiting for the decision of an inbox item it raised: the item id and the wait. */
  public static final String INBOX_DECISION = "umbra-machine-inbox-decision/v1";

  /** A daemon listing the workspace's workflows to mirror them to repository files. */
  public static final String WORKFLOWS = "umbra-machine-workflows/v1";

  /** A daemon proposing a revision edited in a repository file (or reporting a conflict). */
  public static final String WORKFLOW_PROPOSAL = "umbra-machine-workflow-proposal/v1";

  /**
   * A daemon reporting that it refused a stored definition outside a run (its mirror would not
   * write it to a file): the event id it chose, the name, the version and the reason code.
   */
  public static final String WORKFLOW_REFUSAL = "umbra-machine-workflow-refusal/v1";

  private MachineRequests() {}

  public static byte[] workflows(UUID workspaceId, UUID machineId, long timestampMs) {
    return message(WORKFLOWS, workspaceId, machineId, timestampMs);
  }

  /** A proposed revision: the name, the version it was edited from, the conflict flag, the text. */
  public static byte[] workflowProposal(
      UUID workspaceId,
      UUID machineId,
      long timestampMs,
      String name,
      long baseVersion,
      boolean conflict,
      String yaml) {
    return message(
        WORKFLOW_PROPOSAL, workspaceId, machineId, timestampMs, name, baseVersion, conflict, yaml);
  }

  /**
   * A refused definition: the event id (the audit's, a replay adds nothing), name, version, why.
   */
  public static byte[] workflowRefusal(
      UUID workspaceId,
      UUID machineId,
      long timestampMs,
      String eventId,
      String name,
      long version,
      String reason) {
    return message(
        WORKFLOW_REFUSAL, workspaceId, machineId, timestampMs, eventId, name, version, reason);
  }

  /** An inbox item a daemon raises: {@code item} is its canonical JSON text. */
  public static byte[] inbox(UUID workspaceId, UUID machineId, long timestampMs, String item) {
    return message(INBOX, workspaceId, machineId, timestampMs, item);
  }

  /** A daemon's wait for the decision of item {@code itemId}, up to {@code waitSeconds}. */
  public static byte[] inboxDecision(
      UUID workspaceId, UUID machineId, long timestampMs, UUID itemId, int waitSeconds) {
    return message(INBOX_DECISION, workspaceId, machineId, timestampMs, itemId, waitSeconds);
  }

  /** {@code type}, workspace, machine, timestamp and then {@code fields}, joined by newlines. */
  public static byte[] message(
      String type, UUID workspaceId, UUID machineId, long timestampMs, Object... fields) {
    StringJoiner j = new StringJoiner("\n");
    j.add(type).add(workspaceId.toString()).add(machineId.toString());
    j.add(Long.toString(timestampMs));
    for (Object f : fields) {
      j.add(String.valueOf(f));
    }
    return j.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] session(UUID workspaceId, UUID machineId, String audience, long ts) {
    // the audience stands before the timestamp in this one
    StringJoiner j = new StringJoiner("\n");
    j.add(SESSION).add(workspaceId.toString()).add(machineId.toString()).add(audience);
    j.add(Long.toString(ts));
    return j.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] trust(UUID workspaceId, UUID machineId, long timestampMs) {
    return message(TRUST, workspaceId, machineId, timestampMs);
  }

  public static byte[] vault(UUID workspaceId, UUID machineId, long timestampMs, String name) {
    return message(VAULT, workspaceId, machineId, timestampMs, name);
  }

  public static byte[] ttyPolicy(UUID workspaceId, UUID machineId, long timestampMs) {
    return message(TTY_POLICY, workspaceId, machineId, timestampMs);
  }

  public static byte[] workflow(UUID workspaceId, UUID machineId, long timestampMs, String name) {
    return message(WORKFLOW, workspaceId, machineId, timestampMs, name);
  }

  /** A workflow run's report: {@code report} is its canonical JSON text. */
  public static byte[] workflowRun(
      UUID workspaceId, UUID machineId, long timestampMs, String report) {
    return message(WORKFLOW_RUN, workspaceId, machineId, timestampMs, report);
  }

  /**
   * An audit report (docs/audit.md, "Machine reports"): the event id, the action, the channel id in
   * hex, {@code success} or {@code failure}, the reason, the exit status, the duration and the
   * bytes in and out. The daemon builds it to sign; the control plane parses it to verify.
   */
  public record AuditReport(
      String eventId,
      String action,
      String channelHex,
      String outcome,
      String reason,
      long exitStatus,
      long durationMs,
      long bytesIn,
      long bytesOut) {}

  /** The bytes a machine signs for {@code report}, in its fields' order. */
  public static byte[] audit(
      UUID workspaceId, UUID machineId, long timestampMs, AuditReport report) {
    return audit(workspaceId, machineId, timestampMs, report, "");
  }

  /**
   * As above, for a report that names an agent runtime ({@code agent_session.ended}): the runtime
   * id is one more line after the bytes out. Empty: no line (the other actions' bytes unchanged).
   */
  public static byte[] audit(
      UUID workspaceId, UUID machineId, long timestampMs, AuditReport report, String runtime) {
    java.util.List<Object> fields =
        new java.util.ArrayList<>(
            java.util.List.of(
                report.eventId(),
                report.action(),
                report.channelHex(),
                report.outcome(),
                report.reason(),
                report.exitStatus(),
                report.durationMs(),
                report.bytesIn(),
                report.bytesOut()));
    if (!runtime.isEmpty()) {
      fields.add(runtime);
    }
    return message(AUDIT, workspaceId, machineId, timestampMs, fields.toArray());
  }

  /**
   * What the machine and the agent's key both sign to enrol an agent: the workspace, the machine,
   * the agent's name, its Ed25519 and X25519 public keys (lowercase hex) and the timestamp.
   */
  public static byte[] agentEnrolment(
      UUID workspaceId, UUID machineId, String name, byte[] ed25519, byte[] x25519, long tsMs) {
    HexFormat hex = HexFormat.of();
    return String.join(
            "\n",
            AGENT_ENROLMENT,
            workspaceId.toString(),
            machineId.toString(),
            name,
            hex.formatHex(ed25519),
            hex.formatHex(x25519),
            Long.toString(tsMs))
        .getBytes(StandardCharsets.UTF_8);
  }

  /** What an approved agent signs for a session token: workspace, agent id, timestamp. */
  public static byte[] agentSession(UUID workspaceId, UUID agentId, long tsMs) {
    return String.join(
            "\n", AGENT_SESSION, workspaceId.toString(), agentId.toString(), Long.toString(tsMs))
        .getBytes(StandardCharsets.UTF_8);
  }
}
