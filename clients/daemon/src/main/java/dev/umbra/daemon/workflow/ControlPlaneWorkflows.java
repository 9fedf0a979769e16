package dev.umbra.daemon.workflow;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
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
  private final JsonHttp http;
  private final Binding binding;
  private final Supplier<Ed25519KeyPair> signing;
  private final Clock clock;

  public ControlPlaneWorkflows(
      JsonHttp http, Binding binding, Supplier<Ed25519KeyPair> signing, Clock clock) {
    this.http = http;
    this.binding = binding;
    this.signing = signing;
    this.clock = clock;
  }

  @Override
  public Map<String, WorkflowVerifier.Served> list() {
    long ts = clock.millis();
    JsonObject body =
        TrustSync.signedBody(
            binding,
            signing.get(),
            ts,
            MachineRequests.workflows(binding.workspaceId(), binding.machineId(), ts));
    JsonObject r =
        http.post(
            JsonHttp.resolve(binding.controlPlaneUrl(), ControlPlanePaths.MACHINE_WORKFLOWS),
            null,
            body);
    JsonArray items = r.getJsonArray("items", new JsonArray());
    Map<String, WorkflowVerifier.Served> out = new TreeMap<>();
    for (int i = 0; i < items.size() && i < 500; i++) {
      JsonObject w = items.getJsonObject(i);
      if (w.getValue("name") instanceof String name && w.getValue("yaml") instanceof String) {
        try {
          out.put(name, WorkflowVerifier.Served.fromJson(w));
        } catch (IllegalArgumentException e) {
          // not a definition: nothing to write
        }
      }
    }
    return out;
  }

  @Override
  public void propose(String name, long base, boolean conflict, String yaml) {
    long ts = clock.millis();
    JsonObject body =
        TrustSync.signedBody(
                binding,
                signing.get(),
                ts,
                MachineRequests.workflowProposal(
                    binding.workspaceId(), binding.machineId(), ts, name, base, conflict, yaml))
            .put("name", name)
            .put("base_version", base)
            .put("conflict", conflict)
            .put("yaml", yaml);
    http.post(
        JsonHttp.resolve(binding.controlPlaneUrl(), ControlPlanePaths.MACHINE_WORKFLOW_PROPOSALS),
        null,
        body);
  }

  /** The binding's verification of a served definition (its pinned trust; fails closed). */
  public static WorkflowMirror.Verify verifier(
      Path bindingDir, Binding binding, Supplier<Optional<DeviceTrust>> trust) {
    WorkflowVerifier v = new WorkflowVerifier(bindingDir, binding.workspaceId());
    return (name, served) -> {
      try {
        return v.verify(name, served, trust.get()).refusal().map(WorkflowVerifier.Refusal::code);
      } catch (RuntimeException e) {
        return Optional.of(WorkflowVerifier.Refusal.TRUST_UNREADABLE.code());
      }
    };
  }
}
