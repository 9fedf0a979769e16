package dev.umbra.daemon.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.workflow.SignedWorkflow;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mirroring workflows to repository files (docs/agents.md, "Mirroring to repository files"): a
 * platform edit reaches an unchanged file, a file edit becomes a proposal, both at once are a
 * conflict that overwrites nothing, and a definition that does not verify is never written and its
 * refusal is reported to the control plane once.
 */
class WorkflowMirrorTest {
  static final String V1 =
      "name: deploy\nsteps:\n  - id: a\n    machine: box\n    run: [echo, one]\n";
  static final String V2 = V1.replace("one", "two");
  static final String LOCAL = V1.replace("one", "local");

  @TempDir Path home;
  Path repo;
  Path file;
  final Map<String, SignedWorkflow.Served> served = new TreeMap<>();
  final List<String> proposals = new ArrayList<>();
  final List<String> untrusted = new ArrayList<>();
  final List<String> refusals = new ArrayList<>();
  boolean refusalsTaken = true;
  WorkflowMirror mirror;

  @BeforeEach
  void setUp() throws Exception {
    repo = home.resolve("repo");
    file = repo.resolve(".umbra/workflows/deploy.yaml");
    Path config = home.resolve(WorkflowMirror.CONFIG);
    Files.writeString(
        config, new JsonObject().put("repos", new JsonArray().add(repo.toString())).encode());
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
    mirror =
        new WorkflowMirror(
            home,
            "m1",
            new WorkflowMirror.Platform() {
              @Override
              public Map<String, SignedWorkflow.Served> list() {
                return Map.copyOf(served);
              }

              @Override
              public void propose(String name, long base, boolean conflict, String yaml) {
                proposals.add(name + ":" + base + ":" + conflict + ":" + yaml.hashCode());
              }

              @Override
              public void refused(String name, long version, WorkflowRefusal reason) {
                if (!refusalsTaken) {
                  throw new IllegalStateException("control plane unreachable");
                }
                refusals.add(name + ":" + version + ":" + reason.code());
              }
            },
            (name, s) ->
                untrusted.contains(s.yaml())
                    ? Optional.of(WorkflowRefusal.BAD_SIGNATURE)
                    : Optional.empty());
  }

  void platform(String yaml, long version) {
    served.put("deploy", new SignedWorkflow.Served(yaml, version, UUID.randomUUID(), new byte[64]));
  }

  @Test
  void aSignedDefinitionIsWrittenAndAFileEditIsProposedOnce() throws Exception {
    platform(V1, 1);
    assertThat(mirror.syncOnce().written()).hasSize(1);
    assertThat(Files.readString(file)).isEqualTo(V1);
    Path state = home.resolve("workflow-sync/m1/state.json");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.getParent())))
        .isEqualTo("rwx------");

    // platform → repo: a newer signed version reaches the unchanged file
    platform(V2, 2);
    mirror.syncOnce();
    assertThat(Files.readString(file)).isEqualTo(V2);

    // repo → platform: an edit is proposed (once), the file stays as edited
    Files.writeString(file, LOCAL);
    assertThat(mirror.syncOnce().proposed()).hasSize(1);
    assertThat(mirror.syncOnce().proposed()).isEmpty();
    assertThat(proposals).containsExactly("deploy:2:false:" + LOCAL.hashCode());
    assertThat(Files.readString(file)).isEqualTo(LOCAL);

    // signed on the platform as v3: both sides agree again
    platform(LOCAL, 3);
    WorkflowMirror.Report r = mirror.syncOnce();
    assertThat(r.written()).isEmpty();
    assertThat(r.conflicts()).isEmpty();
  }

  @Test
  void bothSidesChangedIsAConflictThatOverwritesNothing() throws Exception {
    platform(V1, 1);
    mirror.syncOnce();
    Files.writeString(file, LOCAL);
    platform(V2, 2);
    WorkflowMirror.Report r = mirror.syncOnce();
    assertThat(r.conflicts()).hasSize(1);
    assertThat(Files.readString(file)).isEqualTo(LOCAL);
    assertThat(proposals).containsExactly("deploy:2:true:" + LOCAL.hashCode());
  }

  @Test
  void aDefinitionThatDoesNotVerifyIsNeverWritten() throws Exception {
    platform(V1, 1);
    mirror.syncOnce();
    untrusted.add(V2);
    platform(V2, 2);
    WorkflowMirror.Report r = mirror.syncOnce();
    assertThat(r.refused()).containsExactly("deploy");
    assertThat(Files.readString(file)).isEqualTo(V1);
  }

  @Test
  void aRefusalIsReportedOncePerVersionAndReasonAndAgainWhenNotTaken() throws Exception {
    untrusted.add(V2);
    platform(V2, 2);
    refusalsTaken = false;
    assertThat(mirror.syncOnce().refused()).containsExactly("deploy");
    assertThat(refusals).isEmpty();

    refusalsTaken = true;
    mirror.syncOnce();
    mirror.syncOnce();
    assertThat(refusals).containsExactly("deploy:2:bad_signature");

    // another refused version is another report
    untrusted.add(LOCAL);
    platform(LOCAL, 3);
    mirror.syncOnce();
    assertThat(refusals).containsExactly("deploy:2:bad_signature", "deploy:3:bad_signature");
    assertThat(file).doesNotExist();
  }

  @Test
  void aNewFileIsProposedAndAFileThatIsNoDefinitionIsNot() throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, V1);
    Files.writeString(file.resolveSibling("broken.yaml"), "name: other\n");
    assertThat(mirror.syncOnce().proposed()).hasSize(1);
    assertThat(proposals).containsExactly("deploy:0:false:" + V1.hashCode());
  }

  @Test
  void aConfigurationOthersMayWriteMirrorsNothing() throws Exception {
    Files.setPosixFilePermissions(
        home.resolve(WorkflowMirror.CONFIG), PosixFilePermissions.fromString("rw-rw-rw-"));
    platform(V1, 1);
    assertThat(mirror.syncOnce().written()).isEmpty();
    assertThat(file).doesNotExist();
  }
}
