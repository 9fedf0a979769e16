package dev.umbra.controlplane.inbox;

import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * A decision an agent (or an agent session's runtime, through its machine's daemon: {@code
 * machineId} and {@code sessionId} instead of {@code agentId}) waits for (docs/agents.md, "Inbox"):
 * {@code approve} (answer {@code approve} or {@code deny}), {@code choose} (one of {@code options})
 * or {@code answer} (free text), with a deadline at which an open item takes {@code defaultAnswer}.
 */
record InboxItem(
    UUID id,
    UUID agentId,
    UUID machineId,
    String sessionId,
    String kind,
    String question,
    List<String> options,
    String defaultAnswer,
    OffsetDateTime deadline,
    String status,
    String answer,
    UUID decidedBy,
    OffsetDateTime decidedAt,
    OffsetDateTime createdAt) {

  static InboxItem of(Row r) {
    JsonArray options = (JsonArray) r.getJson("options");
    return new InboxItem(
        r.getUUID("id"),
        r.getUUID("agent_id"),
        r.getUUID("machine_id"),
        r.getString("session_id"),
        r.getString("kind"),
        r.getString("question"),
        options.stream().map(String::valueOf).toList(),
        r.getString("default_answer"),
        r.getOffsetDateTime("deadline"),
        r.getString("status"),
        r.getString("answer"),
        r.getUUID("decided_by"),
        r.getOffsetDateTime("decided_at"),
        r.getOffsetDateTime("created_at"));
  }

  /** Who raised it, for audit metadata: {@code agent} or {@code machine} and the id. */
  String authorKind() {
    return agentId != null ? "agent" : "machine";
  }

  String authorId() {
    return String.valueOf(agentId != null ? agentId : machineId);
  }

  boolean open() {
    return "open".equals(status);
  }

  /** The item with the teams it is shared with. */
  record Shared(InboxItem item, List<UUID> teamIds) {}

  /** What an agent raises. */
  record Question(
      String kind,
      String question,
      List<String> options,
      String defaultAnswer,
      long deadlineSeconds,
      List<UUID> teamIds) {}
}
