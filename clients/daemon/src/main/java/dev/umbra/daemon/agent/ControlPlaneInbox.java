package dev.umbra.daemon.agent;

import dev.umbra.client.binding.MachineClient;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * A binding's {@link AgentInbox}: the control plane's machine inbox routes, every request signed
 * with the binding key ({@code POST /v1/machine-inbox}, {@code POST /v1/machine-inbox-decision}).
 * An answer the control plane gives is final (a 4xx); one it could not give (unreachable, 5xx, too
 * many requests) may be asked again.
 */
public final class ControlPlaneInbox implements AgentInbox {
  private final MachineClient client;

  public ControlPlaneInbox(MachineClient client) {
    this.client = client;
  }

  @Override
  public void raise(UUID itemId, String sessionId, JsonObject request) throws Failed {
    String item =
        new JsonObject()
            .put("id", itemId.toString())
            .put("session_id", sessionId)
            .put("kind", request.getString("kind"))
            .put("question", request.getString("question"))
            .put("options", request.getJsonArray("options"))
            .put("default", request.getString("default"))
            .put("deadline_seconds", request.getLong("deadline_seconds"))
            .encode();
    post(
        ControlPlanePaths.MACHINE_INBOX,
        (w, m, ts) -> MachineRequests.inbox(w, m, ts, item),
        new JsonObject().put("item", item));
  }

  @Override
  public State await(UUID itemId, int waitSeconds) throws Failed {
    JsonObject r =
        post(
            ControlPlanePaths.MACHINE_INBOX_DECISION,
            (w, m, ts) -> MachineRequests.inboxDecision(w, m, ts, itemId, waitSeconds),
            new JsonObject().put("item_id", itemId.toString()).put("wait_seconds", waitSeconds));
    if (!(r.getValue("status") instanceof String status)
        || !status.matches("open|decided|expired")) {
      throw new Failed(
          AgentInbox.Reason.BAD_RESPONSE, true, "the control plane's answer has no status");
    }
    Object answer = r.getValue("answer");
    return new State(status, answer instanceof String a ? a : null);
  }

  private JsonObject post(String path, MachineClient.Message message, JsonObject members)
      throws Failed {
    try {
      return client.post(path, message, members);
    } catch (MachineClient.Failed e) {
      throw new Failed(
          AgentInbox.Reason.valueOf(e.failure().name()), e.retryable(), e.getMessage());
    }
  }
}
