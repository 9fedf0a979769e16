package dev.umbra.client.workflow;

import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowDocument;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import io.vertx.core.json.JsonObject;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * Whether a workflow definition the control plane served was signed by a trusted device of the
 * workspace (docs/agents.md, "Workflow runs"): the one check the daemon makes before it runs or
 * mirrors a definition and the CLI makes before it shows or runs one. The control plane is not
 * trusted: the served text must parse as the workflow asked for, its signer must have a credential
 * the workspace's pinned keyset signed ({@link Signers}: the daemon's pin, the CLI's verified
 * keyset), and that device's key must have signed the {@code umbra-workflow/v1} payload rebuilt
 * from the served text, for this workspace, name and version.
 */
public final class SignedWorkflow {
  private SignedWorkflow() {}

  /** A definition as served: its text, version, signer and signature. */
  public record Served(String yaml, long version, UUID signer, byte[] signature) {
    public Served {
      signature = signature.clone();
    }

    @Override
    public byte[] signature() {
      return signature.clone();
    }

    /** The control plane's answer ({@code Workflow} schema); anything else is malformed. */
    public static Served fromJson(JsonObject j) {
      if (!(j.getValue("yaml") instanceof String yaml)
          || !(j.getValue("version") instanceof Number v)
          || !(j.getValue("signature") instanceof String sig)
          || sig.length() != 128
          || !(j.getValue("signer_device_id") instanceof String signer)) {
        throw new IllegalArgumentException("not a workflow");
      }
      return new Served(yaml, v.longValue(), UUID.fromString(signer), HexFormat.of().parseHex(sig));
    }
  }

  /** A signer's credential as the verifier's trust vouches for it, or why there is none. */
  public record Signer(
      Optional<TrustModel.Credential> credential, Optional<WorkflowRefusal> refusal) {
    public static Signer of(TrustModel.Credential c) {
      return new Signer(Optional.of(c), Optional.empty());
    }

    /**
     * {@code NO_PINNED_TRUST}, {@code TRUST_UNREADABLE}, {@code SIGNER_REVOKED}, {@code
     * UNKNOWN_SIGNER}.
     */
    public static Signer refused(WorkflowRefusal r) {
      return new Signer(Optional.empty(), Optional.of(r));
    }
  }

  /** Where signers are vouched for: the verifier's pinned trust. */
  @FunctionalInterface
  public interface Signers {
    Signer find(UUID deviceId);
  }

  /** A verified definition, or the refusal. */
  public record Verdict(
      Optional<WorkflowDefinition> definition, Optional<WorkflowRefusal> refusal) {
    public static Verdict refused(WorkflowRefusal r) {
      return new Verdict(Optional.empty(), Optional.of(r));
    }
  }

  /**
   * The definition {@code served} as the workflow {@code name} of {@code workspaceId}, when a
   * signer {@code signers} vouch for signed it; else why not. Never throws for what the control
   * plane served.
   */
  public static Verdict verify(UUID workspaceId, String name, Served served, Signers signers) {
    WorkflowDefinition d;
    try {
      d = WorkflowDefinition.parse(served.yaml());
    } catch (CryptoException | IllegalArgumentException e) {
      return Verdict.refused(WorkflowRefusal.MALFORMED);
    }
    if (!d.name().equals(name) || served.version() < 1) {
      return Verdict.refused(WorkflowRefusal.MALFORMED);
    }
    Signer s = signers.find(served.signer());
    if (s.refusal().isPresent()) {
      return Verdict.refused(s.refusal().get());
    }
    TrustModel.Credential c = s.credential().orElseThrow();
    if (!c.deviceId().equals(served.signer())) {
      return Verdict.refused(WorkflowRefusal.UNKNOWN_SIGNER);
    }
    if (!WorkflowDocument.verifies(
        workspaceId,
        served.version(),
        served.signer(),
        d,
        served.signature(),
        c.keys().signingKey())) {
      return Verdict.refused(WorkflowRefusal.BAD_SIGNATURE);
    }
    return new Verdict(Optional.of(d), Optional.empty());
  }
}
