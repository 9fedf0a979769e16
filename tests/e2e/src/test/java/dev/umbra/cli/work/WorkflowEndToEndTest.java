package dev.umbra.cli.work;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Signed workflows end to end (docs/agents.md, "Workflows"): `umbra workflows put` signs a
 * definition with the admin CLI's trusted device, `umbra workflows run` asks the paired machine's
 * daemon over the relay; the daemon verifies the signature against its pinned workspace trust, runs
 * the step and reports a run record with step statuses and byte counts. The same definition changed
 * in PostgreSQL — what a compromised control plane could do — is refused by the daemon, and the
 * refusal is audited, whether the daemon was asked to run it or its repository mirror met it; a
 * mirror's proposals are audited too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkflowEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-workflow-test-0123456789";
  static final String YAML =
      """
      name: hello
      inputs:
        who:
          default: world
      steps:
        - id: greet
          machine: local
          run: [sh, -c, "echo hi-$0", "${inputs.who}"]
      """;
  CliHarness h;
  Path admin;
  Path machine;
  DaemonRelay relay;

  @BeforeAll
  void start() throws Exception {
    h = CliHarness.start("workflows", BOOTSTRAP, ServiceName.PAIRING, ServiceName.RELAY);
    admin = h.tmp.resolve("admin");
    machine = h.tmp.resolve("machine");
    ok(admin, "login", h.cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    BindingStore store = h.pairMachine(admin, machine);
    DaemonRunner runner =
        new DaemonRunner(
            new JsonHttp(), store, Clock.systemUTC(), new PrintStream(new ByteArrayOutputStream()));
    runner.syncTrust();
    relay =
        DaemonRelay.start(
            new JsonHttp(),
            store,
            machine,
            (b, audience) -> runner.session(b, audience).getString("token"),
            null,
            new PrintStream(new ByteArrayOutputStream()));
    assertThat(relay.channels()).hasSize(1);
  }

  @AfterAll
  void stop() throws Exception {
    relay.close();
    h.close();
  }

  @Test
  void aSignedWorkflowRunsAndTheSameDefinitionAlteredInPostgresIsRefusedByTheCliBeforeAnyMachine()
      throws Exception {
    Path file = h.tmp.resolve("hello.yaml");
    Files.writeString(file, YAML);
    ok(admin, "workflows", "put", file.toString());
    assertThat(ok(admin, "workflows", "show", "hello").out()).contains("version 1");

    UmbraRun ran = umbra(admin, "workflows", "run", "hello", "--input", "who=there");
    assertThat(ran.code()).as(ran.err()).isZero();
    assertThat(ran.out()).contains("hi-there");
    assertThat(ran.err()).contains("step greet: succeeded");
    JsonObject record =
        Eventually.until(
                "the workflow run left its record",
                Duration.ofSeconds(30),
                () -> workflowRuns(),
                a -> a.size() == 1)
            .getJsonObject(0);
    assertThat(record.getString("outcome")).isEqualTo("success");
    assertThat(record.getLong("bytes_out")).isEqualTo("hi-there\n".length());
    JsonObject wf = ok(admin, "runs", "show", record.getString("id"), "--json").json();
    assertThat(
            wf.getJsonObject("workflow").getJsonArray("steps").getJsonObject(0).getString("status"))
        .isEqualTo("succeeded");
    assertThat(wf.encode())
        .as("never output or arguments")
        .doesNotContain("hi-there")
        .doesNotContain("echo");

    // a compromised control plane rewrites the stored text: the CLI refuses it itself, with the
    // daemon's reason, before it shows or runs anything; no machine is asked
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement()) {
      assertThat(
              st.executeUpdate(
                  "UPDATE control_plane.workflows SET yaml = replace(yaml, 'echo hi-', 'echo pwned-')"
                      + " WHERE name = 'hello'"))
          .isEqualTo(1);
    }
    UmbraRun shown = umbra(admin, "workflows", "show", "hello");
    assertThat(shown.code()).isEqualTo(1);
    assertThat(shown.err()).contains("workflow hello refused: bad_signature");
    assertThat(shown.out()).doesNotContain("pwned");
    UmbraRun refused = umbra(admin, "workflows", "run", "hello");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err())
        .contains("workflow hello refused: bad_signature")
        .doesNotContain("of workflow hello");
    assertThat(refused.out()).doesNotContain("pwned");
    Eventually.holdsThroughout(
        "no machine was asked: no second run record",
        Duration.ofSeconds(3),
        () -> workflowRuns().size() == 1);
    assertThat(audited("workflow.refused", "hello")).as("no daemon saw it to refuse it").isEmpty();
  }

  static final String MIRRORED =
      "name: mirrored\nsteps:\n  - id: a\n    machine: local\n    run: [echo, one]\n";

  @Test
  void aWorkflowMirroredToARepositoryFileTravelsBothWaysAndAConflictOverwritesNothing()
      throws Exception {
    var logs = CliHarness.recordLogs();
    try {
      Path repo = h.tmp.resolve("repo");
      Path config = machine.resolve(dev.umbra.daemon.workflow.WorkflowMirror.CONFIG);
      Files.writeString(
          config, new JsonObject().put("repos", new JsonArray().add(repo.toString())).encode());
      Files.setPosixFilePermissions(
          config, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      Path def = h.tmp.resolve("mirrored.yaml");
      Path file = repo.resolve(".umbra/workflows/mirrored.yaml");

      // platform → repo
      Files.writeString(def, MIRRORED);
      ok(admin, "workflows", "put", def.toString());
      relay.syncWorkflows();
      assertThat(Files.readString(file)).isEqualTo(MIRRORED);

      // repo → platform: a proposal, not runnable until a trusted device signs it
      String edited = MIRRORED.replace("one", "two");
      Files.writeString(file, edited);
      relay.syncWorkflows();
      assertThat(ok(admin, "workflows", "list").out()).contains("proposed mirrored from machine");
      assertThat(ok(admin, "workflows", "show", "mirrored", "--json").json().getString("yaml"))
          .isEqualTo(MIRRORED);
      UmbraRun signed = ok(admin, "workflows", "sign", "mirrored");
      assertThat(signed.out())
          .contains("- " + "    run: [echo, one]")
          .contains("+ " + "    run: [echo, two]");
      assertThat(signed.out()).contains("mirrored v2 stored");
      assertThat(relay.syncWorkflows().get(0).conflicts()).isEmpty();
      assertThat(ok(admin, "workflows", "list").out()).doesNotContain("proposed mirrored");

      // a platform edit reaches the unchanged file
      String three = MIRRORED.replace("one", "three");
      Files.writeString(def, three);
      ok(admin, "workflows", "put", def.toString());
      relay.syncWorkflows();
      assertThat(Files.readString(file)).isEqualTo(three);

      // a definition altered in PostgreSQL does not verify: never written to the file
      String four = MIRRORED.replace("one", "four");
      Files.writeString(def, four);
      ok(admin, "workflows", "put", def.toString());
      try (Connection c = h.pg.ownerConnection();
          Statement st = c.createStatement()) {
        st.executeUpdate(
            "UPDATE control_plane.workflows SET yaml = replace(yaml, 'four', 'pwned')"
                + " WHERE name = 'mirrored'");
      }
      assertThat(relay.syncWorkflows().get(0).refused()).contains("mirrored");
      assertThat(Files.readString(file)).isEqualTo(three);
      // ... and the refusal is audited once (the next sync refuses it again, reports nothing new)
      assertThat(relay.syncWorkflows().get(0).refused()).contains("mirrored");
      assertThat(
              Eventually.until(
                  "the mirror's refusal is audited",
                  Duration.ofSeconds(30),
                  () -> audited("workflow.refused", "mirrored"),
                  l -> !l.isEmpty()))
          .containsExactly("workflow.refused:v4:bad_signature:mirror");

      // both sides changed: a conflict, reported on the platform and in the log; nothing
      // overwritten
      String local = MIRRORED.replace("one", "local");
      Files.writeString(file, local);
      Files.writeString(def, MIRRORED.replace("one", "five"));
      ok(admin, "workflows", "put", def.toString());
      assertThat(relay.syncWorkflows().get(0).conflicts()).hasSize(1);
      assertThat(Files.readString(file)).isEqualTo(local);
      assertThat(ok(admin, "workflows", "list").out()).contains("CONFLICT mirrored");
      assertThat(ok(admin, "workflows", "show", "mirrored").out()).contains("CONFLICT mirrored");
      // the proposal and the conflict are audited (machine as actor; never the text)
      assertThat(
              Eventually.until(
                  "the proposals are audited",
                  Duration.ofSeconds(30),
                  () -> audited("workflow.proposed", "mirrored"),
                  l -> l.size() >= 2))
          .containsExactly("workflow.proposed:base1:false", "workflow.proposed:base5:true");
      assertThat(auditTexts("mirrored"))
          .as("no definition text in an audit event")
          .noneMatch(t -> t.contains("echo") || t.contains("pwned") || t.contains("steps"));
      assertThat(List.copyOf(logs.list))
          .anyMatch(e -> e.getFormattedMessage().contains("conflict: mirrored changed"));
      Path state = machine.resolve("workflow-sync");
      try (var files = Files.walk(state)) {
        for (Path f : files.toList()) {
          assertThat(
                  java.nio.file.attribute.PosixFilePermissions.toString(
                      Files.getPosixFilePermissions(f)))
              .as(f.toString())
              .isIn("rw-------", "rwx------");
        }
      }
    } finally {
      CliHarness.stopRecordingLogs(logs);
    }
  }

  private JsonArray workflowRuns() {
    JsonArray out = new JsonArray();
    for (Object o : ok(admin, "runs", "list", "--json").array()) {
      if ("workflow".equals(((JsonObject) o).getString("kind"))) {
        out.add(o);
      }
    }
    return out;
  }

  /**
   * The audit ingest stream's events of {@code action} about workflow {@code name}: for a refusal
   * {@code action:v<version>:<reason>:<run|mirror>}, for a proposal {@code
   * action:base<version>:<conflict>}.
   */
  private List<String> audited(String action, String name) throws Exception {
    List<String> out = new ArrayList<>();
    for (AuditEvent a : auditEvents()) {
      if (!a.getAction().equals(action) || !name.equals(a.getMetadataOrDefault("workflow", ""))) {
        continue;
      }
      out.add(
          action.equals("workflow.refused")
              ? action
                  + ":v"
                  + a.getMetadataOrDefault("version", "")
                  + ":"
                  + a.getMetadataOrDefault("reason", "")
                  + ":"
                  + a.getMetadataOrDefault("source", "run")
              : action
                  + ":base"
                  + a.getMetadataOrDefault("base_version", "")
                  + ":"
                  + a.getMetadataOrDefault("conflict", ""));
    }
    return out;
  }

  /** Every audit event about workflow {@code name}, as text. */
  private List<String> auditTexts(String name) throws Exception {
    return auditEvents().stream()
        .filter(a -> name.equals(a.getMetadataOrDefault("workflow", "")))
        .map(AuditEvent::toString)
        .toList();
  }

  private List<AuditEvent> auditEvents() throws Exception {
    List<AuditEvent> out = new ArrayList<>();
    for (StreamEntry e :
        h.bus
            .range(BusNames.AUDIT_INGEST, "0-0", 10_000)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)) {
      out.add(AuditEvent.parseFrom(e.body().getBytes()));
    }
    return out;
  }
}
