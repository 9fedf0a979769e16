package dev.umbra.web;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowDocument;
import dev.umbra.crypto.workflow.WorkflowFormatException;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.daemon.workflow.WorkflowMirror;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Workflows in the browser app (docs/web.md, "Plans, inbox, runs and workflows") in real Chromium
 * against a real control plane, relay and a paired daemon: the page rebuilds each definition's
 * signed payload itself and checks its signature against the workspace key it pinned — a definition
 * signed by the CLI verifies, the same one altered in PostgreSQL is shown as "signature does not
 * verify"; the definition's hostile text is shown as text; a proposal from a repository file is
 * shown with its difference and signed in the page as the next version, which the daemon then
 * verifies and runs; the workflow's run opens its details with each step's status and counts, never
 * its output. The page's parser is held to shared/crypto's on the published vectors and a corpus of
 * edge cases.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebWorkflowsBrowserTest {
  static final String HOSTILE =
      "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>";
  static final String HELLO =
      """
      name: hello
      description: "%s"
      inputs:
        who:
          default: there
      steps:
        - id: greet
          machine: local
          run: [sh, -c, "echo hi-$0", "${inputs.who}"]
        - id: after
          machine: local
          if: failure()
          run: [touch, /tmp/never]
      """
          .formatted(HOSTILE);
  static final String MIRRORED =
      "name: mirrored\nsteps:\n  - id: a\n    machine: local\n    run: [echo, one]\n";

  BrowserPlatform platform;
  Path machine;
  DaemonRelay relay;
  Traces traces;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    platform =
        BrowserPlatform.start(
            "web-workflows", ServiceName.PAIRING, ServiceName.RELAY, ServiceName.AUDIT);
    traces.watch(platform.h);
    machine = platform.h.tmp.resolve("machine");
    BindingStore store = platform.h.pairMachine(platform.admin, machine);
    new DaemonRunner(
            new JsonHttp(), store, Clock.systemUTC(), new PrintStream(new ByteArrayOutputStream()))
        .syncTrust();
    relay = CliHarness.startDaemonRelay(machine, store);
  }

  @AfterAll
  void stop() throws Exception {
    if (relay != null) {
      relay.close();
    }
    if (platform != null) {
      platform.close();
    }
  }

  @Test
  void thePageParsesAndRebuildsPayloadsExactlyAsSharedCryptoDoes() throws Exception {
    JsonObject file =
        new JsonObject(Files.readString(Path.of("../../shared/crypto/conformance/workflow.json")));
    List<String> corpus = new ArrayList<>();
    for (Object o : file.getJsonArray("vectors")) {
      JsonObject v = (JsonObject) o;
      corpus.add(v.getString("yaml"));
      corpus.add(v.getString("same_yaml"));
      corpus.add(v.getString("tampered_yaml"));
    }
    corpus.addAll(WorkflowCorpus.texts());
    UUID workspace = UUID.randomUUID();
    UUID signer = UUID.randomUUID();
    List<String> expected = new ArrayList<>();
    for (String text : corpus) {
      try {
        expected.add(
            WorkflowDocument.payload(workspace, 7, signer, WorkflowDefinition.parse(text)));
      } catch (WorkflowFormatException e) {
        expected.add("refused:" + e.problem().name().toLowerCase(Locale.ROOT));
      }
    }
    assertThat(expected).as("the corpus holds refusals and payloads").contains("refused:size");
    assertThat(expected.stream().filter(s -> s.startsWith("{")).count()).isGreaterThan(10);

    Map<String, Object> input = new HashMap<>();
    input.put("vectors", file.encode());
    input.put("corpus", corpus);
    input.put("workspace", workspace.toString());
    input.put("signer", signer.toString());
    try (Tab t = platform.tab()) {
      t.page.navigate(platform.app);
      t.page.waitForFunction("() => document.body.dataset.state === 'signed-out'");
      @SuppressWarnings("unchecked")
      Map<String, Object> r =
          (Map<String, Object>)
              t.page.evaluate(BrowserPlatform.resource("workflow-replay.js"), input);
      assertThat(r.get("failures")).asList().isEmpty();
      assertThat(((Number) r.get("checked")).intValue()).isGreaterThanOrEqualTo(12);
      List<?> outcomes = (List<?>) r.get("outcomes");
      for (int i = 0; i < corpus.size(); i++) {
        assertThat(outcomes.get(i)).as("text %d: %s", i, corpus.get(i)).isEqualTo(expected.get(i));
      }
    }
  }

  @Test
  void aSignedWorkflowVerifiesInThePageAndTheSameTextAlteredInPostgresDoesNot() throws Exception {
    Path admin = platform.admin;
    Path hello = platform.h.tmp.resolve("hello.yaml");
    Files.writeString(hello, HELLO);
    ok(admin, "workflows", "put", hello.toString());
    String canary = Traces.canary("webflow");
    UmbraRun ran = ok(admin, "workflows", "run", "hello", "--input", "who=" + canary);
    assertThat(ran.out()).contains("hi-" + canary);
    Eventually.until(
        "the workflow run left its record",
        Duration.ofSeconds(30),
        () -> ok(admin, "runs", "list", "--json").array(),
        a -> a.stream().anyMatch(r -> "workflow".equals(((JsonObject) r).getString("kind"))));
    proposeFromARepositoryFile();

    try (Tab t = platform.tab()) {
      platform.trustedBrowser(t, "web-workflows");
      t.page.click("#workflows-refresh");
      t.await("#workflows-body button[data-workflow-open='hello']");
      t.page.click("#workflows-body button[data-workflow-open='hello']");
      t.await("#workflow-verdict[data-verdict='verifies']");
      assertThat(t.page.textContent("#workflow-verdict"))
          .startsWith("signature verifies in this browser: signed by ");
      assertThat(t.page.textContent("#workflow-yaml")).isEqualTo(HELLO);
      assertThat(t.page.locator("#workflows img, #workflows script").count())
          .as("the definition is text")
          .isZero();
      assertThat(t.page.evaluate("() => window.__pwned === undefined")).isEqualTo(true);

      // the workflow's run, and its details: each step's status and counts, never its output
      t.await("#workflow-runs-body button[data-run-open]");
      t.page.click("#workflow-runs-body button[data-run-open]");
      t.await("#run-detail:not([hidden]) #run-steps:not([hidden])");
      assertThat(t.page.textContent("#run-steps-body"))
          .contains("greet", "succeeded", "after", "skipped");
      assertThat(t.page.textContent("#run-facts")).contains("workflow hello v1", "local");
      // who: the opener of the run's relay channel, from its relay.channel_opened audit event
      t.await("#run-facts dd[data-fact=who][data-looked=done]");
      assertThat(t.page.textContent("#run-facts dd[data-fact=who]"))
          .matches("\\S+ \\(member:[0-9a-f-]{36}\\) opened relay channel [0-9a-f]+ at .+");
      assertThat(t.page.content()).doesNotContain(canary);
      assertThat(t.page.textContent("#run-detail")).doesNotContain("echo");
      t.picture("#run-detail", "web-run.png");
      t.picture("#workflows", "web-workflows.png");

      // a revision proposed from a repository file, with its difference to the stored text
      t.page.click("#workflows-body button[data-workflow-open='mirrored']");
      t.await(
          "#workflow-detail[data-name='mirrored'] #workflow-proposals li[data-conflict='false']");
      assertThat(t.page.textContent("#workflow-proposals"))
          .contains(
              "proposed from machine local",
              "- " + "    run: [echo, one]",
              "+ " + "    run: [echo, two]");

      // signed in the page as the next version with this browser's device key: the control plane
      // takes it, the proposal is gone, and the daemon verifies and runs it
      t.page.click("#workflow-proposals button[data-proposal-sign]");
      t.page.waitForFunction(
          "() => document.getElementById('workflow-title').textContent === 'mirrored (version 2)'");
      t.await("#workflow-detail[data-name='mirrored'][data-verdict='verifies']");
      assertThat(t.page.textContent("#workflow-verdict")).contains("signed by web-workflows,");
      JsonObject signed = ok(platform.admin, "workflows", "show", "mirrored", "--json").json();
      assertThat(signed.getLong("version")).isEqualTo(2L);
      assertThat(signed.getString("yaml")).isEqualTo(MIRRORED.replace("one", "two"));
      assertThat(signed.getString("signer_device_id")).isEqualTo(t.page.textContent("#device-id"));
      assertThat(ok(platform.admin, "workflows", "list").out()).doesNotContain("proposed mirrored");
      assertThat(ok(admin, "workflows", "run", "mirrored").out()).contains("two");

      // a compromised control plane rewrites the stored text: the page refuses it
      try (Connection c = platform.h.pg.ownerConnection();
          Statement st = c.createStatement()) {
        assertThat(
                st.executeUpdate(
                    "UPDATE control_plane.workflows SET yaml = replace(yaml, 'echo hi-', 'echo pwned-')"
                        + " WHERE name = 'hello'"))
            .isEqualTo(1);
      }
      t.page.click("#workflows-body button[data-workflow-open='hello']");
      t.await(
          "#workflow-detail[data-name='hello'] #workflow-verdict[data-verdict='bad_signature']");
      assertThat(t.page.textContent("#workflow-verdict")).startsWith("signature does not verify");
      assertThat(t.page.textContent("#workflow-yaml")).contains("echo pwned-");
      t.picture("#workflow-detail", "web-workflow-refused.png");
      assertThat(t.console).noneMatch(m -> m.startsWith("pageerror"));
    }

    // a browser that pinned no workspace key cannot vouch for any definition
    try (Tab t = platform.tab()) {
      platform.signIn(t);
      t.await("#workflows-body button[data-workflow-open='mirrored']");
      t.page.click("#workflows-body button[data-workflow-open='mirrored']");
      t.await("#workflow-verdict[data-verdict='no_pinned_trust']");
    }
    // the run's input and output stayed on the machine: in no table, log line, bus message or key
    assertThat(traces.anywhere(canary)).isEmpty();
  }

  /** `mirrored` stored, mirrored to a repository file, the file edited: a proposal. */
  private void proposeFromARepositoryFile() throws Exception {
    Path repo = platform.h.tmp.resolve("repo");
    Path config = machine.resolve(WorkflowMirror.CONFIG);
    Files.writeString(
        config, new JsonObject().put("repos", new JsonArray().add(repo.toString())).encode());
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
    Path def = platform.h.tmp.resolve("mirrored.yaml");
    Files.writeString(def, MIRRORED);
    ok(platform.admin, "workflows", "put", def.toString());
    relay.syncWorkflows();
    Path file = repo.resolve(".umbra/workflows/mirrored.yaml");
    assertThat(Files.readString(file)).isEqualTo(MIRRORED);
    Files.writeString(file, MIRRORED.replace("one", "two"));
    relay.syncWorkflows();
    assertThat(ok(platform.admin, "workflows", "list").out()).contains("proposed mirrored");
  }
}
