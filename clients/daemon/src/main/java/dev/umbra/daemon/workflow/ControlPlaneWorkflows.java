package dev.umbra.daemon.workflow;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.MachineClient;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.workflow.SignedWorkflow;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * A binding's {@link WorkflowMirror.Platform} (the control plane's machine routes, signed with the
 * binding key) and its {@link WorkflowMirror.Verify} (the same check as before a run, against the
 * binding's pinned trust).
 */
public final class ControlPlaneWorkflows implements WorkflowMirror.Platform {
  private final MachineClient client;
  private final Supplier<String> eventIds;

  /**
   * @param eventIds audit event ids (ULIDs) for refusal reports: the audit keeps one event per id
   */
  public ControlPlaneWorkflows(MachineClient client, Supplier<String> eventIds) {
    this.client = client;
    this.eventIds = eventIds;
  }

  @Override
  public Map<String, SignedWorkflow.Served> list() throws MachineClient.Failed {
    JsonObject r =
        client.post(
            ControlPlanePaths.MACHINE_WORKFLOWS, MachineRequests::workflows, new JsonObject());
    JsonArray items = r.getJsonArray("items", new JsonArray());
    Map<String, SignedWorkflow.Served> out = new TreeMap<>();
    for (int i = 0; i < items.size() && i < 500; i++) {
      JsonObject w = items.getJsonObject(i);
      if (w.getValue("name") instanceof String name && w.getValue("yaml") instanceof String) {
        try {
          out.put(name, SignedWorkflow.Served.fromJson(w));
        } catch (IllegalArgumentException e) {
          // not a definition: nothing to write
        }
      }
    }
    return out;
  }

  @Override
  public void propose(String name, long base, boolean conflict, String yaml)
      throws MachineClient.Failed {
    client.post(
        ControlPlanePaths.MACHINE_WORKFLOW_PROPOSALS,
        (w, m, ts) -> MachineRequests.workflowProposal(w, m, ts, name, base, conflict, yaml),
        new JsonObject()
            .put("name", name)
            .put("base_version", base)
            .put("conflict", conflict)
            .put("yaml", yaml));
  }

  @Override
  public void refused(String name, long version, WorkflowRefusal reason)
      throws MachineClient.Failed {
    String id = eventIds.get();
    client.post(
        ControlPlanePaths.MACHINE_WORKFLOW_REFUSALS,
        (w, m, ts) -> MachineRequests.workflowRefusal(w, m, ts, id, name, version, reason.code()),
        new JsonObject()
            .put("event_id", id)
            .put("name", name)
            .put("version", version)
            .put("reason", reason.code()));
  }

  /** The binding's verification of a served definition (its pinned trust; fails closed). */
  public static WorkflowMirror.Verify verifier(
      Path bindingDir, Binding binding, Supplier<Optional<DeviceTrust>> trust) {
    WorkflowVerifier v = new WorkflowVerifier(bindingDir, binding.workspaceId());
    return (name, served) -> {
      try {
        return v.verify(name, served, trust.get()).refusal();
      } catch (RuntimeException e) {
        return Optional.of(WorkflowRefusal.TRUST_UNREADABLE);
      }
    };
  }
}
