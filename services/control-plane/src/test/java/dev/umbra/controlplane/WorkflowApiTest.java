package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowDocument;
import dev.umbra.crypto.workflow.WorkflowRunReport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The workflow routes over real HTTP, PostgreSQL and Redis (docs/agents.md, "Workflows"): members
 * store a definition signed by one of their own trusted devices, each version higher; viewers and
 * read tokens only read; the machine fetches with its own signature and reports runs; another
 * workspace's workflows are not found. The daemon's own verification is tested end to end.
 */
@ExtendWith(VertxExtension.class)
class WorkflowApiTest {
  static final String YAML =
      "name: hello\nsteps:\n  - id: greet\n    machine: box\n    run: [echo, hello]\n";

  /**
   * Workspace A with a keyset, alice (owner) and bob (admin) with trusted devices, mia (member).
   */
  final TtyPolicyApiTest a = new TtyPolicyApiTest();

  Harness h;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a.start(vertx);
    h = a.h;
  }

  @AfterEach
  void stop() throws Exception {
    a.stop();
  }

  static JsonObject body(String ws, String yaml, long version, UUID signer, Ed25519KeyPair key) {
    byte[] sig =
        WorkflowDocument.sign(
            UUID.fromString(ws), version, signer, WorkflowDefinition.parse(yaml), key.privateKey());
    return new JsonObject()
        .put("version", version)
        .put("yaml", yaml)
        .put("signature", HexFormat.of().formatHex(sig))
        .put("signer_device_id", signer.toString());
  }

  String path(String ws, String name) {
    return "/v1/workspaces/" + ws + "/workflows/" + name;
  }

  Harness.Response put(String token, JsonObject body) {
    return h.call("PUT", path(a.ws, "hello"), token, body);
  }

  JsonObject machineFetch(String ws, String machine, Ed25519KeyPair key, String name) {
    long ts = h.clock.millis();
    byte[] msg = MachineRequests.workflow(UUID.fromString(ws), UUID.fromString(machine), ts, name);
    return new JsonObject()
        .put("workspace_id", ws)
        .put("machine_id", machine)
        .put("timestamp_ms", ts)
        .put("signature", HexFormat.of().formatHex(key.privateKey().sign(msg)))
        .put("name", name);
  }

  @Test
  void aMemberStoresASignedDefinitionViewersReadItAndTheMachineFetchesIt() {
    String mia = a.mia;
    // mia (member) has no device: she cannot sign; alice can
    Harness.Response set = put(a.alice, body(a.ws, YAML, 1, a.aliceDevice, a.aliceDeviceKey));
    assertThat(set.status()).as(set.body().encode()).isEqualTo(200);
    assertThat(set.body().getString("yaml")).isEqualTo(YAML);
    Harness.Response read = h.call("GET", path(a.ws, "hello"), mia, null);
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.body().getLong("version")).isEqualTo(1);
    assertThat(read.body().getString("signer_device_id")).isEqualTo(a.aliceDevice.toString());
    Harness.Response list = h.call("GET", "/v1/workspaces/" + a.ws + "/workflows", mia, null);
    assertThat(list.body().getJsonArray("items")).hasSize(1);
    assertThat(list.body().getJsonArray("items").getJsonObject(0).containsKey("yaml")).isFalse();
    Harness.Response fetched =
        h.call(
            "POST",
            "/v1/machine-workflow",
            null,
            machineFetch(a.ws, a.machine, a.machineKey, "hello"));
    assertThat(fetched.status()).as(fetched.body().encode()).isEqualTo(200);
    assertThat(fetched.body().getString("signature")).isEqualTo(set.body().getString("signature"));
    // deleted: the version stays, so the next one is 2
    assertThat(h.call("DELETE", path(a.ws, "hello"), a.alice, null).status()).isEqualTo(204);
    assertThat(h.call("GET", path(a.ws, "hello"), mia, null).body().getBoolean("deleted")).isTrue();
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow",
                    null,
                    machineFetch(a.ws, a.machine, a.machineKey, "hello"))
                .status())
        .isEqualTo(404);
    assertThat(put(a.alice, body(a.ws, YAML, 1, a.aliceDevice, a.aliceDeviceKey)).status())
        .isEqualTo(409);
    assertThat(put(a.bob, body(a.ws, YAML, 2, a.bobDevice, a.bobDeviceKey)).status())
        .isEqualTo(200);
  }

  @Test
  void theControlPlaneRefusesWhatNoDaemonWouldRun() {
    assertThat(put(a.alice, body(a.ws, YAML, 3, a.aliceDevice, a.aliceDeviceKey)).status())
        .isEqualTo(200);
    JsonObject altered = body(a.ws, YAML, 4, a.aliceDevice, a.aliceDeviceKey);
    altered.put("yaml", YAML.replace("[echo, hello]", "[sh, -c, id]"));
    JsonObject otherName =
        body(a.ws, YAML.replace("name: hello", "name: other"), 4, a.aliceDevice, a.aliceDeviceKey);
    JsonObject unknownKey = body(a.ws, YAML, 4, a.aliceDevice, a.aliceDeviceKey);
    unknownKey.put("yaml", YAML + "shell: bash\n");
    JsonObject oldSignature = body(a.ws, YAML, 3, a.aliceDevice, a.aliceDeviceKey);
    oldSignature.put("version", 4);
    record Case(String what, String token, JsonObject body, int status) {}
    for (Case c :
        List.of(
            new Case("the text changed after signing", a.alice, altered, 400),
            new Case(
                "an old version's signature replayed as a new version", a.alice, oldSignature, 400),
            new Case(
                "the same version again",
                a.alice,
                body(a.ws, YAML, 3, a.aliceDevice, a.aliceDeviceKey),
                409),
            new Case(
                "a lower version",
                a.alice,
                body(a.ws, YAML, 2, a.aliceDevice, a.aliceDeviceKey),
                409),
            new Case(
                "signed by another member's device",
                a.alice,
                body(a.ws, YAML, 4, a.bobDevice, a.bobDeviceKey),
                403),
            new Case(
                "signed by a device nobody trusts",
                a.alice,
                body(a.ws, YAML, 4, UUID.randomUUID(), Ed25519KeyPair.generate()),
                403),
            new Case(
                "a member without a device",
                a.mia,
                body(a.ws, YAML, 4, a.aliceDevice, a.aliceDeviceKey),
                403),
            new Case("a definition named otherwise than the path", a.alice, otherName, 400),
            new Case("an unknown key", a.alice, unknownKey, 400))) {
      Harness.Response r = put(c.token(), c.body());
      assertThat(r.status()).as(c.what() + ": " + r.body().encode()).isEqualTo(c.status());
    }
    assertThat(h.call("GET", path(a.ws, "hello"), a.mia, null).body().getLong("version"))
        .as("nothing refused was stored")
        .isEqualTo(3);
  }

  @Test
  void aReadTokenOnlyReadsAndAnotherWorkspacesWorkflowsAreNotFound() {
    assertThat(put(a.alice, body(a.ws, YAML, 1, a.aliceDevice, a.aliceDeviceKey)).status())
        .isEqualTo(200);
    String read =
        h.call(
                "POST",
                "/v1/tokens",
                a.alice,
                new JsonObject().put("name", "ro").put("scope", "read"))
            .body()
            .getString("token");
    assertThat(read).isNotNull();
    assertThat(h.call("GET", path(a.ws, "hello"), read, null).status()).isEqualTo(200);
    assertThat(put(read, body(a.ws, YAML, 2, a.aliceDevice, a.aliceDeviceKey)).status())
        .isEqualTo(403);
    assertThat(h.call("DELETE", path(a.ws, "hello"), read, null).status()).isEqualTo(403);
    String other =
        h.call("POST", "/v1/workspaces", a.bob, new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    assertThat(h.call("GET", path(other, "hello"), a.bob, null).status()).isEqualTo(404);
    assertThat(h.call("GET", path(a.ws, "hello"), null, null).status()).isEqualTo(401);
    // bob's device is of workspace A: in B (no keyset) nothing can be signed
    Harness.Response there =
        h.call(
            "PUT", path(other, "hello"), a.bob, body(other, YAML, 1, a.bobDevice, a.bobDeviceKey));
    assertThat(there.status()).as(there.body().encode()).isEqualTo(409);
    String otherMachine = a.machine(other, Ed25519KeyPair.generate());
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow",
                    null,
                    machineFetch(a.ws, a.machine, Ed25519KeyPair.generate(), "hello"))
                .status())
        .as("another key than the machine's")
        .isEqualTo(401);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow",
                    null,
                    machineFetch(other, otherMachine, a.machineKey, "hello"))
                .status())
        .isEqualTo(401);
  }

  @Test
  void aMachinesReportOfAWorkflowRunIsARunRecordWithItsStepsOnce() {
    WorkflowRunReport report =
        new WorkflowRunReport(
            "01JF" + "0".repeat(21) + "A",
            "hello",
            1,
            "1f",
            "success",
            "",
            12,
            List.of(new WorkflowRunReport.StepResult("greet", "succeeded", 0, 10, 0, 6)));
    JsonObject body = reportBody(report, a.machineKey);
    Harness.Response r = h.call("POST", "/v1/machine-workflow-runs", null, body);
    assertThat(r.status()).as(r.body().encode()).isEqualTo(202);
    assertThat(
            h.call("POST", "/v1/machine-workflow-runs", null, reportBody(report, a.machineKey))
                .status())
        .isEqualTo(202);
    JsonObject runs = h.call("GET", "/v1/workspaces/" + a.ws + "/runs", a.alice, null).body();
    assertThat(runs.getJsonArray("items")).as("a replayed report adds nothing").hasSize(1);
    JsonObject run = runs.getJsonArray("items").getJsonObject(0);
    assertThat(run.getString("kind")).isEqualTo("workflow");
    assertThat(run.getLong("bytes_out")).isEqualTo(6);
    assertThat(run.getJsonObject("workflow").getString("name")).isEqualTo("hello");
    assertThat(
            run.getJsonObject("workflow")
                .getJsonArray("steps")
                .getJsonObject(0)
                .getString("status"))
        .isEqualTo("succeeded");
    JsonObject forged = reportBody(report, Ed25519KeyPair.generate());
    assertThat(h.call("POST", "/v1/machine-workflow-runs", null, forged).status()).isEqualTo(401);
    JsonObject notCanonical = reportBody(report, a.machineKey);
    notCanonical.put("report", " " + report.canonical());
    assertThat(h.call("POST", "/v1/machine-workflow-runs", null, notCanonical).status())
        .isEqualTo(400);
  }

  JsonObject reportBody(WorkflowRunReport report, Ed25519KeyPair key) {
    long ts = h.clock.millis();
    String text = report.canonical();
    byte[] msg =
        MachineRequests.workflowRun(UUID.fromString(a.ws), UUID.fromString(a.machine), ts, text);
    return new JsonObject()
        .put("workspace_id", a.ws)
        .put("machine_id", a.machine)
        .put("timestamp_ms", ts)
        .put("signature", HexFormat.of().formatHex(key.privateKey().sign(msg)))
        .put("report", text);
  }
}
