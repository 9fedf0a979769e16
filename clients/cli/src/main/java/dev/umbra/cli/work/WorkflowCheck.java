package dev.umbra.cli.work;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliException;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.workflow.SignedWorkflow;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import io.vertx.core.json.JsonObject;
import java.util.Optional;
import java.util.UUID;

/**
 * The CLI's own check of a workflow definition the control plane served, before it shows or runs it
 * (docs/agents.md, "Workflow runs"): the daemon's check ({@link SignedWorkflow}), with this CLI's
 * verified keyset chain as the trust: the signer must be a trusted device whose credential the
 * current workspace key signed. Refused with the daemon's reasons ({@link WorkflowRefusal#code()}).
 */
final class WorkflowCheck {
  private WorkflowCheck() {}

  /**
   * The definition {@code served} (the control plane's answer for workflow {@code name}) when its
   * signature verifies.
   *
   * @throws CliException naming the refusal's code otherwise
   */
  static WorkflowDefinition verified(Api api, UUID w, String name, JsonObject served) {
    SignedWorkflow.Served s;
    try {
      s = SignedWorkflow.Served.fromJson(served);
    } catch (IllegalArgumentException e) {
      throw refused(name, WorkflowRefusal.MALFORMED);
    }
    WorkspaceProtection wp = new WorkspaceProtection(api, w);
    Optional<WorkspaceProtection.Verified> keyset = wp.keysetIfAny();
    SignedWorkflow.Verdict v =
        SignedWorkflow.verify(w, name, s, signer -> signer(api, wp, keyset, signer));
    return v.definition().orElseThrow(() -> refused(name, v.refusal().orElseThrow()));
  }

  private static SignedWorkflow.Signer signer(
      Api api, WorkspaceProtection wp, Optional<WorkspaceProtection.Verified> keyset, UUID id) {
    if (keyset.isEmpty()) {
      return SignedWorkflow.Signer.refused(WorkflowRefusal.NO_PINNED_TRUST);
    }
    JsonObject row;
    try {
      row = api.get(dev.umbra.proto.api.ControlPlanePaths.device(wp.workspaceId(), id));
    } catch (ApiError e) {
      if (e.status() == 404) {
        return SignedWorkflow.Signer.refused(WorkflowRefusal.UNKNOWN_SIGNER);
      }
      throw e;
    }
    if ("revoked".equals(row.getString("status"))) {
      return SignedWorkflow.Signer.refused(WorkflowRefusal.SIGNER_REVOKED);
    }
    return wp.verifiedCredential(row, keyset.get())
        .map(SignedWorkflow.Signer::of)
        .orElseGet(() -> SignedWorkflow.Signer.refused(WorkflowRefusal.UNKNOWN_SIGNER));
  }

  private static CliException refused(String name, WorkflowRefusal r) {
    return new CliException(
        "workflow "
            + name
            + " refused: "
            + r.code()
            + " (its definition as the control plane served it is not signed by a trusted device"
            + " of this workspace)");
  }
}
