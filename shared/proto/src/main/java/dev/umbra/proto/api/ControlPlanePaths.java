package dev.umbra.proto.api;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The control plane's HTTP API paths, in one place for the server and its clients (issue 16, "typed
 * contracts"). Each constant is a template as the control plane registers it and as
 * /v1/openapi.json documents it ({@code {name}} for a path parameter); each builder fills a
 * template with URL-encoded values ({@link PathTemplates#fill}), so a client never concatenates a
 * path by hand. The control plane's OpenApiTest checks that every template here is a mounted,
 * documented route.
 */
public final class ControlPlanePaths {
  public static final String DISCOVERY = "/v1/discovery";
  public static final String OPENAPI = "/v1/openapi.json";
  public static final String BOOTSTRAP = "/v1/bootstrap";
  public static final String ME = "/v1/me";
  public static final String SESSIONS = "/v1/sessions";
  public static final String TOKENS = "/v1/tokens";
  public static final String TOKEN = "/v1/tokens/{token_id}";
  public static final String INVITATION_ACCEPT = "/v1/invitations/accept";
  public static final String WORKSPACES = "/v1/workspaces";
  public static final String WORKSPACE = "/v1/workspaces/{workspace_id}";
  public static final String MEMBERS = WORKSPACE + "/members";
  public static final String MEMBER = MEMBERS + "/{member_id}";
  public static final String INVITATIONS = WORKSPACE + "/invitations";
  public static final String INVITATION = INVITATIONS + "/{invitation_id}";
  public static final String TEAMS = WORKSPACE + "/teams";
  public static final String TEAM = TEAMS + "/{team_id}";
  public static final String TEAM_MEMBER = TEAM + "/members/{member_id}";
  public static final String MACHINES = WORKSPACE + "/machines";
  public static final String MACHINE = MACHINES + "/{machine_id}";
  public static final String MACHINE_TTY_POLICY = MACHINE + "/tty-policy";
  public static final String KEYSET = WORKSPACE + "/keyset";
  public static final String KEYSET_ROTATIONS = KEYSET + "/rotations";
  public static final String DEVICES = WORKSPACE + "/devices";
  public static final String DEVICE = DEVICES + "/{device_id}";
  public static final String DEVICE_APPROVAL = DEVICE + "/approval";
  public static final String DEVICE_REJECTION = DEVICE + "/rejection";
  public static final String DEVICE_REVOCATION = DEVICE + "/revocation";
  public static final String DEVICE_WEBTTY_KEY = DEVICE + "/webtty-key";
  public static final String DEVICE_ENVELOPE = DEVICE + "/envelope";
  public static final String RECOVERY_KITS = WORKSPACE + "/recovery-kits";
  public static final String RECOVERY_KIT_CONFIRMATION = RECOVERY_KITS + "/{kit_id}/confirmation";
  public static final String RECOVERY_KIT_ENVELOPE = RECOVERY_KITS + "/{kit_id}/envelope";
  private static final String VAULT = WORKSPACE + "/vault";
  public static final String VAULT_ENTRIES = VAULT + "/entries";
  public static final String VAULT_ENTRY = VAULT_ENTRIES + "/{entry_id}";
  public static final String VAULT_CANDIDATES = VAULT + "/candidates";
  public static final String VAULT_CANDIDATE = VAULT_CANDIDATES + "/{candidate_id}";
  public static final String VAULT_GRANTS = VAULT + "/grants";
  public static final String VAULT_GRANT = VAULT_GRANTS + "/{machine_id}";

  /** Routes a machine calls, signed with its binding key. */
  public static final String MACHINE_SESSIONS = "/v1/machine-sessions";

  public static final String MACHINE_TRUST = "/v1/machine-trust";
  public static final String MACHINE_VAULT = "/v1/machine-vault";
  public static final String MACHINE_AUDIT = "/v1/machine-audit";
  public static final String MACHINE_TTY_POLICY_SIGNED = "/v1/machine-tty-policy";
  public static final String MACHINE_WORKFLOW = "/v1/machine-workflow";
  public static final String MACHINE_WORKFLOW_RUNS = "/v1/machine-workflow-runs";
  public static final String MACHINE_WORKFLOWS = "/v1/machine-workflows";
  public static final String MACHINE_WORKFLOW_PROPOSALS = "/v1/machine-workflow-proposals";
  public static final String MACHINE_WORKFLOW_REFUSALS = "/v1/machine-workflow-refusals";
  public static final String MACHINE_INBOX = "/v1/machine-inbox";
  public static final String MACHINE_INBOX_DECISION = "/v1/machine-inbox-decision";

  /** Owner-agent messaging (docs/messaging.md). */
  public static final String AGENT_ENROLMENTS = "/v1/agent-enrolments";

  public static final String AGENT_SESSIONS = "/v1/agent-sessions";
  public static final String AGENTS = WORKSPACE + "/agents";
  public static final String AGENT = AGENTS + "/{agent_id}";
  public static final String AGENT_APPROVAL = AGENT + "/approval";
  public static final String AGENT_REVOCATION = AGENT + "/revocation";
  public static final String PREKEYS = WORKSPACE + "/prekeys";
  public static final String PREKEY_BUNDLE = PREKEYS + "/{principal_id}";
  public static final String PREKEY_STATUS = WORKSPACE + "/prekey-status";
  public static final String CONVERSATIONS = WORKSPACE + "/conversations";
  public static final String CONVERSATION_RECIPIENTS =
      CONVERSATIONS + "/{conversation_id}/recipients";
  public static final String MESSAGES = WORKSPACE + "/messages";
  public static final String MESSAGE_ACKS = MESSAGES + "/acks";
  public static final String MESSAGES_BATCH = MESSAGES + "/batch";
  public static final String MESSAGES_LIVE = MESSAGES + "/live";
  public static final String NOTIFICATION_WEBHOOK = WORKSPACE + "/notification-webhook";
  // agent work (docs/agents.md)
  public static final String PLANS = WORKSPACE + "/plans";
  public static final String PLAN = PLANS + "/{plan_id}";
  public static final String PLAN_VERSIONS = PLAN + "/versions";
  public static final String PLAN_COMMENTS = PLAN + "/comments";
  public static final String PLAN_VERDICTS = PLAN + "/verdicts";
  public static final String PLAN_SHARE = PLAN + "/shares/{team_id}";
  public static final String INBOX = WORKSPACE + "/inbox";
  public static final String INBOX_ITEM = INBOX + "/{item_id}";
  public static final String INBOX_DECISION = INBOX_ITEM + "/decision";
  public static final String INBOX_SHARE = INBOX_ITEM + "/shares/{team_id}";
  public static final String MACHINE_SHARE = MACHINE + "/shares/{team_id}";
  public static final String RUNS = WORKSPACE + "/runs";
  public static final String RUN = RUNS + "/{run_id}";

  /** Signed workflows (docs/agents.md, "Workflows"). */
  public static final String WORKFLOWS = WORKSPACE + "/workflows";

  public static final String WORKFLOW = WORKFLOWS + "/{workflow_name}";

  /** Revisions proposed from repository files on machines (docs/agents.md, "Mirroring"). */
  public static final String WORKFLOW_PROPOSALS = WORKSPACE + "/workflow-proposals";

  private static final List<String> ALL = templates();

  private ControlPlanePaths() {}

  public static String token(Object tokenId) {
    return PathTemplates.fill(TOKEN, tokenId);
  }

  public static String workspace(Object workspaceId) {
    return PathTemplates.fill(WORKSPACE, workspaceId);
  }

  public static String members(Object workspaceId) {
    return PathTemplates.fill(MEMBERS, workspaceId);
  }

  public static String member(Object workspaceId, Object memberId) {
    return PathTemplates.fill(MEMBER, workspaceId, memberId);
  }

  public static String invitations(Object workspaceId) {
    return PathTemplates.fill(INVITATIONS, workspaceId);
  }

  public static String machines(Object workspaceId) {
    return PathTemplates.fill(MACHINES, workspaceId);
  }

  public static String machine(Object workspaceId, Object machineId) {
    return PathTemplates.fill(MACHINE, workspaceId, machineId);
  }

  public static String machineTtyPolicy(Object workspaceId, Object machineId) {
    return PathTemplates.fill(MACHINE_TTY_POLICY, workspaceId, machineId);
  }

  public static String keyset(Object workspaceId) {
    return PathTemplates.fill(KEYSET, workspaceId);
  }

  public static String devices(Object workspaceId) {
    return PathTemplates.fill(DEVICES, workspaceId);
  }

  public static String device(Object workspaceId, Object deviceId) {
    return PathTemplates.fill(DEVICE, workspaceId, deviceId);
  }

  public static String deviceApproval(Object workspaceId, Object deviceId) {
    return PathTemplates.fill(DEVICE_APPROVAL, workspaceId, deviceId);
  }

  public static String deviceRejection(Object workspaceId, Object deviceId) {
    return PathTemplates.fill(DEVICE_REJECTION, workspaceId, deviceId);
  }

  public static String deviceRevocation(Object workspaceId, Object deviceId) {
    return PathTemplates.fill(DEVICE_REVOCATION, workspaceId, deviceId);
  }

  public static String deviceEnvelope(Object workspaceId, Object deviceId) {
    return PathTemplates.fill(DEVICE_ENVELOPE, workspaceId, deviceId);
  }

  public static String recoveryKits(Object workspaceId) {
    return PathTemplates.fill(RECOVERY_KITS, workspaceId);
  }

  public static String recoveryKitConfirmation(Object workspaceId, Object kitId) {
    return PathTemplates.fill(RECOVERY_KIT_CONFIRMATION, workspaceId, kitId);
  }

  public static String recoveryKitEnvelope(Object workspaceId, Object kitId) {
    return PathTemplates.fill(RECOVERY_KIT_ENVELOPE, workspaceId, kitId);
  }

  public static String vaultEntries(Object workspaceId) {
    return PathTemplates.fill(VAULT_ENTRIES, workspaceId);
  }

  public static String vaultEntry(Object workspaceId, Object entryId) {
    return PathTemplates.fill(VAULT_ENTRY, workspaceId, entryId);
  }

  public static String vaultCandidates(Object workspaceId) {
    return PathTemplates.fill(VAULT_CANDIDATES, workspaceId);
  }

  public static String vaultCandidate(Object workspaceId, Object candidateId) {
    return PathTemplates.fill(VAULT_CANDIDATE, workspaceId, candidateId);
  }

  public static String vaultGrants(Object workspaceId) {
    return PathTemplates.fill(VAULT_GRANTS, workspaceId);
  }

  public static String agents(Object workspaceId) {
    return PathTemplates.fill(AGENTS, workspaceId);
  }

  public static String agent(Object workspaceId, Object agentId) {
    return PathTemplates.fill(AGENT, workspaceId, agentId);
  }

  public static String agentApproval(Object workspaceId, Object agentId) {
    return PathTemplates.fill(AGENT_APPROVAL, workspaceId, agentId);
  }

  public static String agentRevocation(Object workspaceId, Object agentId) {
    return PathTemplates.fill(AGENT_REVOCATION, workspaceId, agentId);
  }

  public static String prekeys(Object workspaceId) {
    return PathTemplates.fill(PREKEYS, workspaceId);
  }

  public static String prekeyBundle(Object workspaceId, Object principalId) {
    return PathTemplates.fill(PREKEY_BUNDLE, workspaceId, principalId);
  }

  public static String prekeyStatus(Object workspaceId) {
    return PathTemplates.fill(PREKEY_STATUS, workspaceId);
  }

  public static String conversations(Object workspaceId) {
    return PathTemplates.fill(CONVERSATIONS, workspaceId);
  }

  public static String conversationRecipients(Object workspaceId, Object conversationId) {
    return PathTemplates.fill(CONVERSATION_RECIPIENTS, workspaceId, conversationId);
  }

  public static String messages(Object workspaceId) {
    return PathTemplates.fill(MESSAGES, workspaceId);
  }

  public static String messagesBatch(Object workspaceId) {
    return PathTemplates.fill(MESSAGES_BATCH, workspaceId);
  }

  public static String messageAcks(Object workspaceId) {
    return PathTemplates.fill(MESSAGE_ACKS, workspaceId);
  }

  public static String messagesLive(Object workspaceId) {
    return PathTemplates.fill(MESSAGES_LIVE, workspaceId);
  }

  public static String plans(Object workspaceId) {
    return PathTemplates.fill(PLANS, workspaceId);
  }

  public static String plan(Object workspaceId, Object planId) {
    return PathTemplates.fill(PLAN, workspaceId, planId);
  }

  public static String planVersions(Object workspaceId, Object planId) {
    return PathTemplates.fill(PLAN_VERSIONS, workspaceId, planId);
  }

  public static String planComments(Object workspaceId, Object planId) {
    return PathTemplates.fill(PLAN_COMMENTS, workspaceId, planId);
  }

  public static String planVerdicts(Object workspaceId, Object planId) {
    return PathTemplates.fill(PLAN_VERDICTS, workspaceId, planId);
  }

  public static String planShare(Object workspaceId, Object planId, Object teamId) {
    return PathTemplates.fill(PLAN_SHARE, workspaceId, planId, teamId);
  }

  public static String inbox(Object workspaceId) {
    return PathTemplates.fill(INBOX, workspaceId);
  }

  public static String inboxItem(Object workspaceId, Object itemId) {
    return PathTemplates.fill(INBOX_ITEM, workspaceId, itemId);
  }

  public static String inboxDecision(Object workspaceId, Object itemId) {
    return PathTemplates.fill(INBOX_DECISION, workspaceId, itemId);
  }

  public static String inboxShare(Object workspaceId, Object itemId, Object teamId) {
    return PathTemplates.fill(INBOX_SHARE, workspaceId, itemId, teamId);
  }

  public static String machineShare(Object workspaceId, Object machineId, Object teamId) {
    return PathTemplates.fill(MACHINE_SHARE, workspaceId, machineId, teamId);
  }

  public static String runs(Object workspaceId) {
    return PathTemplates.fill(RUNS, workspaceId);
  }

  public static String run(Object workspaceId, Object runId) {
    return PathTemplates.fill(RUN, workspaceId, runId);
  }

  public static String workflows(Object workspaceId) {
    return PathTemplates.fill(WORKFLOWS, workspaceId);
  }

  public static String workflow(Object workspaceId, Object name) {
    return PathTemplates.fill(WORKFLOW, workspaceId, name);
  }

  public static String workflowProposals(Object workspaceId) {
    return PathTemplates.fill(WORKFLOW_PROPOSALS, workspaceId);
  }

  /** Every template declared here. */
  public static List<String> all() {
    return ALL;
  }

  private static List<String> templates() {
    List<String> out = new ArrayList<>();
    for (Field f : ControlPlanePaths.class.getDeclaredFields()) {
      int mod = f.getModifiers();
      if (Modifier.isPublic(mod) && Modifier.isStatic(mod) && f.getType() == String.class) {
        try {
          out.add((String) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return Collections.unmodifiableList(out);
  }
}
