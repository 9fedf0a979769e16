package dev.umbra.cli.work;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustStore;
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
 * One workflow run across two machines (docs/agents.md, "Workflow runs"), end to end with two
 * paired daemons: `umbra workflows run` asks box-a, then box-b, then box-a again, each over its own
 * end-to-end channel; each daemon verifies the signed definition against its own pinned trust and
 * runs only its steps; the run leaves one merged run record listing every step with the machine
 * that ran it; the steps' output — a canary — is nowhere on the platform. When box-b's trust is not
 * pinned it refuses, the run fails at its step, the later step obeys its condition ({@code
 * always()}), and the refusal is audited under the run's id.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkflowAcrossMachinesEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-multi-machine-test-0123456789";
  static final String YAML =
      """
      name: relay-race
      inputs:
        tag:
          required: true
      steps:
        - id: build
          machine: box-a
          run: [sh, -c, "echo built-$0", "${inputs.tag}"]
        - id: check
          machine: box-b
          run: [sh, -c, "echo checked-$0", "${inputs.tag}"]
        - id: report
          machine: box-a
          run: [sh, -c, "echo reported-$0", "${inputs.tag}"]
          if: always()
      """;

  CliHarness h;
  Traces traces;
  Path admin;
  Path boxA;
  Path boxB;
  String idA;
  String idB;
  final List<DaemonRelay> relays = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    h = CliHarness.start("multistep", BOOTSTRAP, ServiceName.PAIRING, ServiceName.RELAY);
    traces.watch(h);
    admin = h.tmp.resolve("admin");
    ok(admin, "login", h.cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    boxA = h.tmp.resolve("box-a");
    boxB = h.tmp.resolve("box-b");
    idA = daemon(boxA, "box-a");
    idB = daemon(boxB, "box-b");
    Path file = h.tmp.resolve("relay-race.yaml");
    Files.writeString(file, YAML);
    ok(admin, "workflows", "put", file.toString());
  }

  /** Pairs {@code home} as {@code name} and runs its daemon's relay side; the machine id. */
  private String daemon(Path home, String name) throws Exception {
    BindingStore store = h.pairMachine(admin, home, name);
    DaemonRunner runner =
        new DaemonRunner(
            new JsonHttp(), store, Clock.systemUTC(), new PrintStream(new ByteArrayOutputStream()));
    runner.syncTrust();
    DaemonRelay relay =
        DaemonRelay.start(
            new JsonHttp(),
            store,
            home,
            (b, audience) -> runner.session(b, audience).getString("token"),
            null,
            new PrintStream(new ByteArrayOutputStream()));
    relays.add(relay);
    assertThat(relay.channels()).hasSize(1);
    return store.list().get(0).machineId().toString();
  }

  @AfterAll
  void stop() throws Exception {
    for (DaemonRelay r : relays) {
      r.close();
    }
    traces.close();
    h.close();
  }

  @Test
  void aRunAcrossTwoMachinesIsOneRunRecordAndARefusalOnOneStopsItAtItsStep() throws Exception {
    String canary = Traces.canary("multistep");
    UmbraRun ran = umbra(admin, "workflows", "run", "relay-race", "--input", "tag=" + canary);
    assertThat(ran.code()).as(ran.err()).isZero();
    assertThat(ran.out().lines().toList())
        .containsExactly("built-" + canary, "checked-" + canary, "reported-" + canary);
    assertThat(ran.err())
        .contains("step build: succeeded")
        .contains("step check: succeeded")
        .contains("step report: succeeded")
        .contains("relay-race v1: success");

    String runId = runId(ran);
    JsonObject run =
        Eventually.until(
                "the run left one record",
                Duration.ofSeconds(30),
                () -> ofRun(runId),
                a -> a.size() == 1 && steps(a.getJsonObject(0)) == 3)
            .getJsonObject(0);
    assertThat(run.getString("outcome")).isEqualTo("success");
    JsonObject wf = ok(admin, "runs", "show", run.getString("id"), "--json").json();
    JsonArray steps = wf.getJsonObject("workflow").getJsonArray("steps");
    assertThat(steps.stream().map(s -> ((JsonObject) s).getString("id")))
        .containsExactly("build", "check", "report");
    assertThat(steps.stream().map(s -> ((JsonObject) s).getString("machine_id")))
        .containsExactly(idA, idB, idA);
    assertThat(wf.getJsonObject("workflow").getJsonArray("reports")).hasSize(3);
    assertThat(wf.getJsonObject("workflow").getString("run_id")).isEqualTo(runId);
    assertThat(traces.anywhere(canary)).as("places holding the steps' output").isEmpty();

    // box-b has no pinned trust: it refuses; the run fails at check, report (always()) still runs
    BindingStore storeB = new BindingStore(boxB);
    Path pin = storeB.root().resolve(idB).resolve(TrustStore.FILE);
    Path aside = pin.resolveSibling("trust.json.aside");
    Files.move(pin, aside);
    UmbraRun refused;
    try {
      refused = umbra(admin, "workflows", "run", "relay-race", "--input", "tag=again");
    } finally {
      Files.move(aside, pin);
    }
    assertThat(refused.code()).as(refused.err()).isEqualTo(1);
    assertThat(refused.out().lines().toList()).containsExactly("built-again", "reported-again");
    assertThat(refused.err())
        .contains("no_pinned_trust")
        .contains("step check: not_run (machine box-b)")
        .contains("step report: succeeded")
        .contains("failure (no_pinned_trust)");
    String refusedId = runId(refused);
    JsonObject failed =
        Eventually.until(
                "the refused run left one record",
                Duration.ofSeconds(30),
                () -> ofRun(refusedId),
                a -> a.size() == 1 && reports(a.getJsonObject(0)) == 3)
            .getJsonObject(0);
    assertThat(failed.getString("outcome")).isEqualTo("failure");
    assertThat(failed.getString("reason")).isEqualTo("no_pinned_trust");
    assertThat(
            failed.getJsonObject("workflow").getJsonArray("steps").stream()
                .map(s -> ((JsonObject) s).getString("id")))
        .containsExactly("build", "report");
    assertThat(
            Eventually.until(
                "the refusal is audited",
                Duration.ofSeconds(30),
                () -> refusals(refusedId),
                l -> !l.isEmpty()))
        .containsExactly("ACTOR_KIND_MACHINE:" + idB + ":no_pinned_trust");
  }

  @Test
  void aDaemonRefusesAPartOfAnotherVersionStepsNotNamingItOrIncompleteEarlierStatuses()
      throws Exception {
    JsonObject part =
        new JsonObject()
            .put("name", "relay-race")
            .put("version", 1)
            .put("inputs", new JsonObject().put("tag", "x"))
            .put("steps", new JsonArray().add("check"))
            .put("prior", new JsonObject().put("build", "succeeded"));
    assertThat(askB(part.copy().put("version", 7)))
        .as("every machine runs the version the run started with")
        .isEqualTo("refused:version_changed");
    assertThat(
            askB(
                part.copy()
                    .put("steps", new JsonArray().add("build"))
                    .put("prior", new JsonObject())))
        .as("a step naming box-a")
        .isEqualTo("refused:bad_steps");
    assertThat(askB(part.copy().put("prior", new JsonObject())))
        .as("the earlier steps' statuses missing")
        .isEqualTo("refused:bad_steps");
    assertThat(askB(part)).isEqualTo("success:");
  }

  /** Sends {@code part} to box-b's daemon as the admin's CLI would: its outcome and reason. */
  private String askB(JsonObject part) throws Exception {
    part.put("run_id", dev.umbra.crypto.ids.Ulids.next(0, new java.security.SecureRandom()));
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    dev.umbra.cli.CliContext ctx =
        new dev.umbra.cli.CliContext(
            admin, quiet, quiet, java.util.Map.of(), new JsonHttp(), Clock.systemUTC());
    try (var relay = dev.umbra.cli.relay.RelayAccess.connectOneShot(ctx, null, "box-b", null)) {
      JsonObject end =
          dev.umbra.cli.relay.RemoteWorkflow.run(
                  relay.client(), relay.machineId(), relay.daemonKey(), part, quiet, quiet)
              .get(60, TimeUnit.SECONDS);
      return end.getString("outcome") + ":" + end.getString("reason");
    }
  }

  /** The run id the CLI printed: "run <id> of workflow ...". */
  private static String runId(UmbraRun ran) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("run ([0-9A-Z]{26}) of workflow").matcher(ran.err());
    assertThat(m.find()).as(ran.err()).isTrue();
    return m.group(1);
  }

  private JsonArray ofRun(String runId) {
    JsonArray out = new JsonArray();
    for (Object o : workflowRuns()) {
      if (runId.equals(((JsonObject) o).getJsonObject("workflow").getString("run_id"))) {
        out.add(o);
      }
    }
    return out;
  }

  private static int steps(JsonObject r) {
    return r.getJsonObject("workflow").getJsonArray("steps").size();
  }

  private static int reports(JsonObject r) {
    return r.getJsonObject("workflow").getJsonArray("reports", new JsonArray()).size();
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

  /** The {@code workflow.refused} events of run {@code runId}: {@code actor:id:reason}. */
  private List<String> refusals(String runId) throws Exception {
    List<String> out = new ArrayList<>();
    for (StreamEntry e :
        h.bus
            .range(BusNames.AUDIT_INGEST, "0-0", 10_000)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)) {
      AuditEvent a = AuditEvent.parseFrom(e.body().getBytes());
      if (a.getAction().equals("workflow.refused")
          && runId.equals(a.getMetadataOrDefault("run_id", ""))) {
        out.add(
            a.getActor().getKind()
                + ":"
                + a.getActor().getId()
                + ":"
                + a.getMetadataOrDefault("reason", ""));
      }
    }
    return out;
  }
}
