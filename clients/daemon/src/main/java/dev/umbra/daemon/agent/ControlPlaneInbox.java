package dev.umbra.daemon.agent;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.proto.api.ApiFailure;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A binding's {@link AgentInbox}: the control plane's machine inbox routes, every request signed
 * with the binding key ({@code POST /v1/machine-inbox}, {@code POST /v1/machine-inbox-decision}).
 * An answer the control plane gives is final (a 4xx); one it could not give (unreachable, 5xx, too
 * many requests) may be asked again.
 */
public final class ControlPlaneInbox implements AgentInbox {
  private final JsonHttp http;
  private final Binding binding;
  private final Supplier<Ed25519KeyPair> signing;
  private final Clock clock;

  public ControlPlaneInbox(
      JsonHttp http, Binding binding, Supplier<Ed25519KeyPair> signing, Clock clock) {
    this.http = http;
    this.binding = binding;
    this.signing = signing;
    this.clock = clock;
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
    long ts = clock.millis();
    JsonObject body =
        TrustSync.signedBody(
                binding,
                signing.get(),
                ts,
                MachineRequests.inbox(binding.workspaceId(), binding.machineId(), ts, item))
            .put("item", item);
    post(ControlPlanePaths.MACHINE_INBOX, body);
  }

  @Override
  public State await(UUID itemId, int waitSeconds) throws Failed {
    long ts = clock.millis();
    JsonObject body =
        TrustSync.signedBody(
                binding,
                signing.get(),
                ts,
                MachineRequests.inboxDecision(
                    binding.workspaceId(), binding.machineId(), ts, itemId, waitSeconds))
            .put("item_id", itemId.toString())
            .put("wait_seconds", waitSeconds);
    JsonObject r = post(ControlPlanePaths.MACHINE_INBOX_DECISION, body);
    if (!(r.getValue("status") instanceof String status)
        || !status.matches("open|decided|expired")) {
      throw new Failed(
          AgentInbox.Reason.BAD_RESPONSE, true, "the control plane's answer has no status");
    }
    Object answer = r.getValue("answer");
    return new State(status, answer instanceof String a ? a : null);
  }

  private JsonObject post(String path, JsonObject body) throws Failed {
    try {
      return http.post(JsonHttp.resolve(binding.controlPlaneUrl(), path), null, body);
    } catch (ApiFailure e) {
      int s = e.status();
      boolean retry = s == 0 || s == 429 || s >= 500;
      AgentInbox.Reason code =
          retry
              ? AgentInbox.Reason.UNREACHABLE
              : switch (s) {
                case 400 -> AgentInbox.Reason.BAD_REQUEST;
                case 401, 403 -> AgentInbox.Reason.MACHINE_REFUSED;
                case 404 -> AgentInbox.Reason.NOT_FOUND;
                default -> AgentInbox.Reason.REFUSED;
              };
      throw new Failed(code, retry, e.getMessage());
    } catch (RuntimeException e) {
      throw new Failed(AgentInbox.Reason.UNREACHABLE, true, e.getMessage());
    }
  }
}
