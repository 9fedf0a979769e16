package dev.umbra.daemon.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.client.workflow.SignedWorkflow.Served;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowDocument;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The daemon's decision to run a served workflow (docs/agents.md, "Workflow runs"): only a
 * definition signed by a device its pinned workspace key vouches for, for this workspace, name and
 * version, never older than one it already ran; the control plane's word counts for nothing.
 */
class WorkflowVerifierTest {
  static final String YAML = "name: w\nsteps:\n  - id: a\n    machine: m\n    run: [echo, ok]\n";
  final UUID ws = UUID.randomUUID();
  final Ed25519KeyPair workspaceKey = Ed25519KeyPair.generate();
  final Ed25519KeyPair device = Ed25519KeyPair.generate();
  final UUID deviceId = UUID.randomUUID();
  final Path dir;

  WorkflowVerifierTest() throws Exception {
    dir =
        Files.createTempDirectory(
            "workflows",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  /** The pin of a trust sync that served the device's credential, signed by {@code by}. */
  DeviceTrust pin(Ed25519KeyPair by, List<Signed> revocations) {
    TrustModel.Keyset k =
        new TrustModel.Keyset(
            ws, 1, workspaceKey.publicKey(), X25519KeyPair.generate().publicKey(), "t");
    TrustModel.DeviceKeys keys =
        new TrustModel.DeviceKeys(device.publicKey(), P256KeyPair.generate().publicKey());
    Signed cred =
        Signed.sign(
            new TrustModel.Credential(ws, deviceId, 1, keys, "laptop", "cli", "t").fields(),
            by.privateKey());
    return TrustStore.pinFirst(
        ws,
        List.of(Signed.sign(k.fields(), workspaceKey.privateKey())),
        revocations,
        List.of(cred));
  }

  Served served(String yaml, long version, UUID signer, Ed25519KeyPair key) {
    return new Served(
        yaml,
        version,
        signer,
        WorkflowDocument.sign(
            ws, version, signer, WorkflowDefinition.parse(yaml), key.privateKey()));
  }

  Optional<WorkflowRefusal> verify(Served s, Optional<DeviceTrust> trust) {
    return new WorkflowVerifier(dir, ws).verify("w", s, trust).refusal();
  }

  @Test
  void aDefinitionSignedByAPinnedTrustedDeviceRuns() {
    assertThat(verify(served(YAML, 1, deviceId, device), Optional.of(pin(workspaceKey, List.of()))))
        .isEmpty();
  }

  @Test
  void whatTheControlPlaneCouldServeIsRefused() {
    Optional<DeviceTrust> trust = Optional.of(pin(workspaceKey, List.of()));
    Served good = served(YAML, 2, deviceId, device);
    Served edited =
        new Served(YAML.replace("[echo, ok]", "[sh, -c, id]"), 2, deviceId, good.signature());
    assertThat(verify(edited, trust)).contains(WorkflowRefusal.BAD_SIGNATURE);
    assertThat(verify(new Served(YAML, 3, deviceId, good.signature()), trust))
        .as("an old version's signature served as a new version")
        .contains(WorkflowRefusal.BAD_SIGNATURE);
    assertThat(verify(served(YAML, 2, UUID.randomUUID(), Ed25519KeyPair.generate()), trust))
        .contains(WorkflowRefusal.UNKNOWN_SIGNER);
    assertThat(verify(served(YAML, 2, deviceId, Ed25519KeyPair.generate()), trust))
        .as("the signer's id with another key")
        .contains(WorkflowRefusal.BAD_SIGNATURE);
    assertThat(
            verify(
                served(YAML, 2, deviceId, device),
                Optional.of(pin(Ed25519KeyPair.generate(), List.of()))))
        .as("a credential the pinned workspace key never signed")
        .contains(WorkflowRefusal.UNKNOWN_SIGNER);
    assertThat(verify(good, Optional.empty())).contains(WorkflowRefusal.NO_PINNED_TRUST);
    assertThat(new WorkflowVerifier(dir, ws).verify("other", good, trust).refusal())
        .contains(WorkflowRefusal.MALFORMED);
    assertThat(verify(new Served("name: w\n", 2, deviceId, good.signature()), trust))
        .contains(WorkflowRefusal.MALFORMED);
  }

  @Test
  void aRevokedSignerIsRefused() {
    Signed revocation =
        Signed.sign(
            new TrustModel.Revocation(ws, deviceId, "t").fields(), workspaceKey.privateKey());
    assertThat(
            verify(
                served(YAML, 1, deviceId, device),
                Optional.of(pin(workspaceKey, List.of(revocation)))))
        .contains(WorkflowRefusal.SIGNER_REVOKED);
  }

  @Test
  void anOlderVersionThanOneAlreadyRunOrAReusedVersionIsRefused() {
    Optional<DeviceTrust> trust = Optional.of(pin(workspaceKey, List.of()));
    Served v1 = served(YAML, 1, deviceId, device);
    assertThat(verify(served(YAML, 5, deviceId, device), trust)).isEmpty();
    assertThat(verify(v1, trust)).as("replayed old version").contains(WorkflowRefusal.ROLLED_BACK);
    assertThat(verify(served(YAML, 5, deviceId, device), trust)).as("the same again").isEmpty();
    assertThat(verify(served(YAML.replace("ok", "ok2"), 5, deviceId, device), trust))
        .contains(WorkflowRefusal.VERSION_REUSED);
    assertThat(verify(served(YAML, 6, deviceId, device), trust)).isEmpty();
  }
}
