package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowDocument;
import dev.umbra.crypto.workflow.WorkflowRunReport;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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

  JsonObject signedByMachine(
      String ws, String machine, Ed25519KeyPair key, byte[] msg, long ts, JsonObject extra) {
    return extra
        .put("workspace_id", ws)
        .put("machine_id", machine)
        .put("timestamp_ms", ts)
        .put("signature", HexFormat.of().formatHex(key.privateKey().sign(msg)));
  }

  JsonObject proposal(
      String ws, String machine, Ed25519KeyPair key, String yaml, long base, boolean conflict) {
    long ts = h.clock.millis();
    byte[] msg =
        MachineRequests.workflowProposal(
            UUID.fromString(ws), UUID.fromString(machine), ts, "hello", base, conflict, yaml);
    return signedByMachine(
        ws,
        machine,
        key,
        msg,
        ts,
        new JsonObject()
            .put("name", "hello")
            .put("base_version", base)
            .put("conflict", conflict)
            .put("yaml", yaml));
  }

  @Test
  void aMachineMirrorsSignedWorkflowsAndProposesRepositoryEditsThatRunNothingUntilSigned() {
    assertThat(put(a.alice, body(a.ws, YAML, 1, a.aliceDevice, a.aliceDeviceKey)).status())
        .isEqualTo(200);
    long ts = h.clock.millis();
    JsonObject listing =
        signedByMachine(
            a.ws,
            a.machine,
            a.machineKey,
            MachineRequests.workflows(UUID.fromString(a.ws), UUID.fromString(a.machine), ts),
            ts,
            new JsonObject());
    Harness.Response listed = h.call("POST", "/v1/machine-workflows", null, listing);
    assertThat(listed.status()).as(listed.body().encode()).isEqualTo(200);
    assertThat(listed.body().getJsonArray("items").getJsonObject(0).getString("yaml"))
        .isEqualTo(YAML);

    // a file edited on the machine: a proposal, shown to viewers, never what the machine fetches
    String edited = YAML.replace("hello]", "hello, again]");
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow-proposals",
                    null,
                    proposal(a.ws, a.machine, a.machineKey, edited, 1, false))
                .status())
        .isEqualTo(202);
    String proposals = "/v1/workspaces/" + a.ws + "/workflow-proposals";
    JsonObject p =
        h.call("GET", proposals, a.mia, null).body().getJsonArray("items").getJsonObject(0);
    assertThat(p.getString("yaml")).isEqualTo(edited);
    assertThat(p.getLong("base_version")).isEqualTo(1);
    assertThat(p.getBoolean("conflict")).isFalse();
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow",
                    null,
                    machineFetch(a.ws, a.machine, a.machineKey, "hello"))
                .body()
                .getString("yaml"))
        .as("a proposal is not runnable")
        .isEqualTo(YAML);
    // the same file again, now a conflict: one row per machine and name
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow-proposals",
                    null,
                    proposal(a.ws, a.machine, a.machineKey, edited, 1, true))
                .status())
        .isEqualTo(202);
    JsonArray items = h.call("GET", proposals, a.mia, null).body().getJsonArray("items");
    assertThat(items).hasSize(1);
    assertThat(items.getJsonObject(0).getBoolean("conflict")).isTrue();

    // refused: a text that is not a definition of that name, another key, a body not signed
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow-proposals",
                    null,
                    proposal(a.ws, a.machine, a.machineKey, "name: other\nsteps: []\n", 1, false))
                .status())
        .isEqualTo(400);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow-proposals",
                    null,
                    proposal(a.ws, a.machine, Ed25519KeyPair.generate(), edited, 1, false))
                .status())
        .isEqualTo(401);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow-proposals",
                    null,
                    proposal(a.ws, a.machine, a.machineKey, edited, 1, false).put("yaml", YAML))
                .status())
        .isEqualTo(401);

    // who reads proposals: members and read tokens of the workspace; nobody else
    String read =
        h.call(
                "POST",
                "/v1/tokens",
                a.alice,
                new JsonObject().put("name", "ro").put("scope", "read"))
            .body()
            .getString("token");
    assertThat(h.call("GET", proposals, read, null).status()).isEqualTo(200);
    assertThat(h.call("GET", proposals, null, null).status()).isEqualTo(401);
    String other =
        h.call("POST", "/v1/workspaces", a.bob, new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    assertThat(
            h.call("GET", "/v1/workspaces/" + other + "/workflow-proposals", a.bob, null)
                .body()
                .getJsonArray("items"))
        .isEmpty();

    // a trusted device signs the edit as the next version: the proposals of the name are settled
    assertThat(put(a.alice, body(a.ws, edited, 2, a.aliceDevice, a.aliceDeviceKey)).status())
        .isEqualTo(200);
    assertThat(h.call("GET", proposals, a.mia, null).body().getJsonArray("items")).isEmpty();

    // a revoked machine proposes nothing
    assertThat(
            h.call("DELETE", "/v1/workspaces/" + a.ws + "/machines/" + a.machine, a.alice, null)
                .status())
        .isBetween(200, 204);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-workflow-proposals",
                    null,
                    proposal(a.ws, a.machine, a.machineKey, edited, 2, false))
                .status())
        .isEqualTo(401);
  }

  @Test
  void aMachinesReportOfAWorkflowRunIsARunRecordWithItsStepsOnce() {
    assertThat(put(a.alice, body(a.ws, YAML, 1, a.aliceDevice, a.aliceDeviceKey)).status())
        .isEqualTo(200);
    WorkflowRunReport report =
        new WorkflowRunReport(
            "01JF" + "0".repeat(21) + "A",
            "01JF" + "0".repeat(21) + "R",
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

  JsonObject refusalBody(
      Ed25519KeyPair key, String eventId, String name, long version, String reason) {
    long ts = h.clock.millis();
    byte[] msg =
        MachineRequests.workflowRefusal(
            UUID.fromString(a.ws), UUID.fromString(a.machine), ts, eventId, name, version, reason);
    return signedByMachine(
        a.ws,
        a.machine,
        key,
        msg,
        ts,
        new JsonObject()
            .put("event_id", eventId)
            .put("name", name)
            .put("version", version)
            .put("reason", reason));
  }

  @Test
  void aMachinesRefusalOutsideARunIsTakenSignedWithAKnownReasonAndLeavesNoRunRecord() {
    String id = "01JF" + "0".repeat(21) + "B";
    Harness.Response r = refusal(refusalBody(a.machineKey, id, "hello", 3, "bad_signature"));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(202);
    assertThat(r.body().getString("event_id")).isEqualTo(id);
    // a replay is taken (the audit keeps one event per id)
    assertThat(refusal(refusalBody(a.machineKey, id, "hello", 3, "bad_signature")).status())
        .isEqualTo(202);
    assertThat(
            h.call("GET", "/v1/workspaces/" + a.ws + "/runs", a.alice, null)
                .body()
                .getJsonArray("items"))
        .as("nothing ran")
        .isEmpty();

    // refused: a reason that is no refusal code, a bad id or name (400); another key, a member
    // changed after signing, a stale timestamp (401); a member the route does not take (400)
    List<JsonObject> bad =
        List.of(
            refusalBody(a.machineKey, id, "hello", 3, "pwned"),
            refusalBody(a.machineKey, "not-a-ulid", "hello", 3, "bad_signature"),
            refusalBody(a.machineKey, id, "Hello World", 3, "bad_signature"),
            refusalBody(a.machineKey, id, "hello", 3, "bad_signature").put("yaml", YAML));
    assertThat(bad).allSatisfy(b -> assertThat(refusal(b).status()).isEqualTo(400));
    List<JsonObject> unsigned =
        List.of(
            refusalBody(Ed25519KeyPair.generate(), id, "hello", 3, "bad_signature"),
            refusalBody(a.machineKey, id, "hello", 3, "bad_signature")
                .put("reason", "unknown_signer"),
            refusalBody(a.machineKey, id, "hello", 3, "bad_signature")
                .put("timestamp_ms", h.clock.millis() - 120_000));
    assertThat(unsigned).allSatisfy(b -> assertThat(refusal(b).status()).isEqualTo(401));
  }

  Harness.Response refusal(JsonObject body) {
    return h.call("POST", "/v1/machine-workflow-refusals", null, body);
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
