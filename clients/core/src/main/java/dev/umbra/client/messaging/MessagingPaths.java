package dev.umbra.client.messaging;

import static dev.umbra.proto.api.ControlPlanePaths.AGENT;
import static dev.umbra.proto.api.ControlPlanePaths.AGENTS;
import static dev.umbra.proto.api.ControlPlanePaths.AGENT_APPROVAL;
import static dev.umbra.proto.api.ControlPlanePaths.AGENT_REVOCATION;
import static dev.umbra.proto.api.ControlPlanePaths.CONVERSATIONS;
import static dev.umbra.proto.api.ControlPlanePaths.CONVERSATION_RECIPIENTS;
import static dev.umbra.proto.api.ControlPlanePaths.MESSAGES;
import static dev.umbra.proto.api.ControlPlanePaths.MESSAGES_LIVE;
import static dev.umbra.proto.api.ControlPlanePaths.MESSAGE_ACKS;
import static dev.umbra.proto.api.ControlPlanePaths.PREKEYS;
import static dev.umbra.proto.api.ControlPlanePaths.PREKEY_BUNDLE;
import static dev.umbra.proto.api.ControlPlanePaths.PREKEY_STATUS;

import dev.umbra.proto.api.PathTemplates;

/** The messaging routes of docs/messaging.md, filled (templates in {@code ControlPlanePaths}). */
public final class MessagingPaths {
  private MessagingPaths() {}

  public static String agents(Object w) {
    return PathTemplates.fill(AGENTS, w);
  }

  public static String agent(Object w, Object a) {
    return PathTemplates.fill(AGENT, w, a);
  }

  public static String agentApproval(Object w, Object a) {
    return PathTemplates.fill(AGENT_APPROVAL, w, a);
  }

  public static String agentRevocation(Object w, Object a) {
    return PathTemplates.fill(AGENT_REVOCATION, w, a);
  }

  public static String prekeys(Object w) {
    return PathTemplates.fill(PREKEYS, w);
  }

  public static String prekeyBundle(Object w, Object principal) {
    return PathTemplates.fill(PREKEY_BUNDLE, w, principal);
  }

  public static String prekeyStatus(Object w) {
    return PathTemplates.fill(PREKEY_STATUS, w);
  }

  public static String conversations(Object w) {
    return PathTemplates.fill(CONVERSATIONS, w);
  }

  public static String conversationRecipients(Object w, Object c) {
    return PathTemplates.fill(CONVERSATION_RECIPIENTS, w, c);
  }

  public static String messages(Object w) {
    return PathTemplates.fill(MESSAGES, w);
  }

  public static String messageAcks(Object w) {
    return PathTemplates.fill(MESSAGE_ACKS, w);
  }

  public static String live(Object w) {
    return PathTemplates.fill(MESSAGES_LIVE, w);
  }
}
