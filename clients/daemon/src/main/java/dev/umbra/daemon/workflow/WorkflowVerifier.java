package dev.umbra.daemon.workflow;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.workflow.SignedWorkflow;
import dev.umbra.client.workflow.SignedWorkflow.Served;
import dev.umbra.client.workflow.SignedWorkflow.Verdict;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;

/**
 * The daemon's decision whether a workflow definition the control plane served may run (docs/
 * agents.md, "Workflow runs"). The control plane is not trusted here: the definition runs only when
 * the workspace is protected (a pinned keyset), its signer is a device whose credential of the
 * current keyset version the pinned workspace key signed and that no signed revocation names, and
 * that device's key signed the {@code umbra-workflow/v1} payload rebuilt from the served text, for
 * this workspace, name and version ({@link SignedWorkflow}, the check the CLI makes too). A version
 * lower than one this binding already ran (a rollback to an older signed definition), or the same
 * version with other content, is refused too; the versions run are kept in {@code workflows.json}
 * (0600) beside the binding's {@code trust.json}.
 */
public final class WorkflowVerifier {
  public static final String FILE = "workflows.json";

  private final Path file;
  private final UUID workspaceId;

  public WorkflowVerifier(Path bindingDir, UUID workspaceId) {
    this.file = bindingDir.resolve(FILE);
    this.workspaceId = workspaceId;
  }

  /**
   * The definition {@code served} as the workflow {@code name}, when it may run under {@code
   * trust}; else why not. Never throws for what the control plane served.
   */
  public Verdict verify(String name, Served served, Optional<DeviceTrust> trust) {
    Verdict v = SignedWorkflow.verify(workspaceId, name, served, signer -> signer(trust, signer));
    return v.definition().isPresent() ? checkVersion(name, served, v.definition().get()) : v;
  }

  /** The signer's credential of the current keyset as this binding's pin vouches for it. */
  private static SignedWorkflow.Signer signer(Optional<DeviceTrust> trust, UUID signer) {
    if (trust.isEmpty()) {
      return SignedWorkflow.Signer.refused(WorkflowRefusal.NO_PINNED_TRUST);
    }
    DeviceTrust t = trust.get();
    if (t.pin().revoked().contains(signer)) {
      return SignedWorkflow.Signer.refused(WorkflowRefusal.SIGNER_REVOKED);
    }
    Signed credential = t.pin().current().get(signer);
    Optional<TrustModel.Credential> c =
        credential == null ? Optional.empty() : t.authorize(credential);
    return c.map(SignedWorkflow.Signer::of)
        .orElseGet(() -> SignedWorkflow.Signer.refused(WorkflowRefusal.UNKNOWN_SIGNER));
  }

  /** Refuses a rollback or a reused version; records a newer version as run here. */
  private synchronized Verdict checkVersion(String name, Served served, WorkflowDefinition d) {
    // Ed25519 is deterministic: the same signer over the same payload gives the same signature
    String digest = HexFormat.of().formatHex(served.signature());
    JsonObject held = held();
    JsonObject seen = held.getJsonObject(name);
    long version = seen == null ? 0 : seen.getLong("version", 0L);
    if (served.version() < version) {
      return Verdict.refused(WorkflowRefusal.ROLLED_BACK);
    }
    if (served.version() == version && !digest.equals(seen.getString("signature"))) {
      return Verdict.refused(WorkflowRefusal.VERSION_REUSED);
    }
    if (served.version() > version) {
      held.put(name, new JsonObject().put("version", served.version()).put("signature", digest));
      try {
        PrivateFiles.replace(
            file,
            new JsonObject()
                .put("format", "umbra-workflow-pin/v1")
                .put("workflows", held)
                .encodePrettily());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
      }
    }
    return new Verdict(Optional.of(d), Optional.empty());
  }

  /**
   * The versions run so far; an unreadable file counts as none held only when absent (an edited
   * file fails closed: nothing runs until it is removed).
   */
  private JsonObject held() {
    if (!Files.isRegularFile(file)) {
      return new JsonObject();
    }
    try {
      JsonObject j = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
      JsonObject w = j.getJsonObject("workflows");
      if (w == null) {
        throw new IllegalStateException("no workflows member");
      }
      return w;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new IllegalStateException("the held workflow versions " + file + " are invalid");
    }
  }
}
