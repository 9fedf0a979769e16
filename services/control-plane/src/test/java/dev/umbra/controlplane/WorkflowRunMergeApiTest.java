package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowRunReport;
import dev.umbra.crypto.workflow.WorkflowRunReport.StepResult;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One run record per workflow run across machines (docs/agents.md, "Workflow runs"), over real
 * HTTP, PostgreSQL and Redis: each machine reports its own steps under the run id, signed by its
 * binding key, and the control plane merges them — refusing a step that names another machine, a
 * step reported twice, another version, and anything from another workspace or a revoked machine.
 */
@ExtendWith(VertxExtension.class)
class WorkflowRunMergeApiTest {
  static final String RUN = "01JF" + "0".repeat(21) + "R";

  final TtyPolicyApiTest a = new TtyPolicyApiTest();
  Harness h;
  Ed25519KeyPair bKey;
  String b;
  int events;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a.start(vertx);
    h = a.h;
    bKey = Ed25519KeyPair.generate();
    b = machine(a.ws, "box-b", bKey);
    // steps on box (by name), box-b (by id), box again
    String yaml =
        "name: relay\nsteps:\n"
            + "  - id: one\n    machine: box\n    run: [echo, one]\n"
            + "  - id: two\n    machine: "
            + b
            + "\n    run: [echo, two]\n"
            + "  - id: three\n    machine: box\n    run: [echo, three]\n    if: always()\n";
    Harness.Response put =
        h.call(
            "PUT",
            "/v1/workspaces/" + a.ws + "/workflows/relay",
            a.alice,
            WorkflowApiTest.body(a.ws, yaml, 1, a.aliceDevice, a.aliceDeviceKey));
    assertThat(put.status()).as(put.body().encode()).isEqualTo(200);
  }

  @AfterEach
  void stop() throws Exception {
    a.stop();
  }

  String machine(String ws, String name, Ed25519KeyPair key) {
    return h.call(
            "POST",
            "/internal/v1/workspaces/" + ws + "/machines",
            null,
            new JsonObject()
                .put("install_id", UUID.randomUUID().toString())
                .put("x25519_public_key", "11".repeat(32))
                .put("ed25519_public_key", key.publicKey().toHex())
                .put("name", name)
                .put("os", "linux"),
            Map.of("X-Umbra-Internal", Harness.INTERNAL))
        .body()
        .getString("id");
  }

  WorkflowRunReport report(long version, String outcome, String reason, StepResult... steps) {
    return reportOf(RUN, version, outcome, reason, steps);
  }

  WorkflowRunReport reportOf(
      String run, long version, String outcome, String reason, StepResult... steps) {
    String event = "01JF" + "0".repeat(19) + String.format("%02d", ++events) + "E";
    return new WorkflowRunReport(
        event, run, "relay", version, "1f", outcome, reason, 10, List.of(steps));
  }

  static StepResult ok(String id, long out) {
    return new StepResult(id, "succeeded", 0, 5, 0, out);
  }

  int send(String ws, String machine, Ed25519KeyPair key, WorkflowRunReport r) {
    long ts = h.clock.millis();
    String text = r.canonical();
    byte[] msg =
        MachineRequests.workflowRun(UUID.fromString(ws), UUID.fromString(machine), ts, text);
    return h.call(
            "POST",
            "/v1/machine-workflow-runs",
            null,
            new JsonObject()
                .put("workspace_id", ws)
                .put("machine_id", machine)
                .put("timestamp_ms", ts)
                .put("signature", HexFormat.of().formatHex(key.privateKey().sign(msg)))
                .put("report", text))
        .status();
  }

  int fromA(WorkflowRunReport r) {
    return send(a.ws, a.machine, a.machineKey, r);
  }

  int fromB(WorkflowRunReport r) {
    return send(a.ws, b, bKey, r);
  }

  JsonArray runs(String token) {
    return h.call("GET", "/v1/workspaces/" + a.ws + "/runs", token, null)
        .body()
        .getJsonArray("items");
  }

  @Test
  void everyMachinesStepsMergeIntoOneRunRecordThatReadTokensReadAndRevokedDevicesDoNot() {
    assertThat(fromA(report(1, "success", "", ok("one", 4)))).isEqualTo(202);
    WorkflowRunReport second =
        report(1, "failure", "step_failed", new StepResult("two", "failed", 3, 7, 0, 2));
    assertThat(fromB(second)).isEqualTo(202);
    assertThat(fromA(report(1, "success", "", ok("three", 6)))).isEqualTo(202);
    assertThat(fromB(second)).as("a replayed report changes nothing").isEqualTo(202);

    JsonArray all = runs(a.alice);
    assertThat(all).as("one record for the run").hasSize(1);
    JsonObject run = all.getJsonObject(0);
    assertThat(run.getString("outcome")).isEqualTo("failure");
    assertThat(run.getString("reason")).isEqualTo("step_failed");
    assertThat(run.getInteger("exit_status")).isEqualTo(3);
    assertThat(run.getLong("bytes_out")).isEqualTo(12);
    JsonObject wf = run.getJsonObject("workflow");
    assertThat(wf.getString("run_id")).isEqualTo(RUN);
    assertThat(wf.getJsonArray("reports")).hasSize(3);
    assertThat(wf.getJsonArray("steps").stream().map(o -> ((JsonObject) o).getString("id")))
        .containsExactly("one", "two", "three");
    assertThat(wf.getJsonArray("steps").stream().map(o -> ((JsonObject) o).getString("machine_id")))
        .containsExactly(a.machine, b, a.machine);

    // mia (member) reads with a read token what is shared with her team: the run is its first
    // machine's
    String read =
        h.call("POST", "/v1/tokens", a.mia, new JsonObject().put("name", "ro").put("scope", "read"))
            .body()
            .getString("token");
    String base = "/v1/workspaces/" + a.ws;
    String path = base + "/runs/" + run.getString("id");
    assertThat(h.call("GET", path, read, null).status()).as("not shared").isEqualTo(404);
    String team =
        h.call("POST", base + "/teams", a.alice, new JsonObject().put("name", "ops"))
            .body()
            .getString("id");
    String mia =
        h.call("GET", base + "/members", a.alice, null).body().getJsonArray("items").stream()
            .map(JsonObject.class::cast)
            .filter(m -> m.getString("name").equals("mia"))
            .findFirst()
            .orElseThrow()
            .getString("id");
    assertThat(h.call("PUT", base + "/teams/" + team + "/members/" + mia, a.alice, null).status())
        .isEqualTo(204);
    assertThat(
            h.call("PUT", base + "/machines/" + a.machine + "/shares/" + team, a.alice, null)
                .status())
        .isBetween(200, 204);
    assertThat(h.call("GET", path, read, null).status())
        .as("box is shared with her team, box-b (which ran step two) is not")
        .isEqualTo(404);
    assertThat(runs(read)).as("nor listed").isEmpty();
    assertThat(h.call("PUT", base + "/machines/" + b + "/shares/" + team, a.alice, null).status())
        .isBetween(200, 204);
    assertThat(runs(read)).hasSize(1);
    Harness.Response viaRead = h.call("GET", path, read, null);
    assertThat(viaRead.status()).isEqualTo(200);
    assertThat(viaRead.body().getJsonObject("workflow")).isEqualTo(wf);

    String bobSession = MessagingFixture.deviceSession(h, a.bob, a.ws, a.bobDevice);
    assertThat(h.call("GET", path, bobSession, null).status()).isEqualTo(200);
    Map<String, Object> rev = new TreeMap<>();
    rev.put("type", "umbra-device-revocation/v1");
    rev.put("workspace_id", a.ws);
    rev.put("device_id", a.bobDevice.toString());
    rev.put("revoked_at", "2026-11-26T00:00:00Z");
    assertThat(
            h.call(
                    "POST",
                    "/v1/workspaces/" + a.ws + "/devices/" + a.bobDevice + "/revocation",
                    a.alice,
                    new JsonObject()
                        .put("revocation", TtyPolicyApiTest.signed(rev, a.workspaceKey)))
                .status())
        .isEqualTo(200);
    assertThat(h.call("GET", path, bobSession, null).status())
        .as("a revoked device's session reads no run")
        .isEqualTo(403);
  }

  @Test
  void twoMachinesFirstReportsOfOneRunAtOnceBothMerge() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 8; round++) {
        String run = "01JF" + "0".repeat(20) + round + "R";
        WorkflowRunReport one = reportOf(run, 1, "success", "", ok("one", 4));
        WorkflowRunReport two = reportOf(run, 1, "success", "", ok("two", 1));
        CyclicBarrier start = new CyclicBarrier(2);
        Future<Integer> byA =
            pool.submit(
                () -> {
                  start.await(30, TimeUnit.SECONDS);
                  return fromA(one);
                });
        Future<Integer> byB =
            pool.submit(
                () -> {
                  start.await(30, TimeUnit.SECONDS);
                  return fromB(two);
                });
        assertThat(byA.get(30, TimeUnit.SECONDS)).isEqualTo(202);
        assertThat(byB.get(30, TimeUnit.SECONDS)).isEqualTo(202);
      }
    } finally {
      pool.shutdownNow();
    }
    JsonArray all = runs(a.alice);
    assertThat(all).as("one record per run").hasSize(8);
    for (Object o : all) {
      JsonObject wf = ((JsonObject) o).getJsonObject("workflow");
      assertThat(wf.getJsonArray("reports")).as("neither report dropped").hasSize(2);
      assertThat(wf.getJsonArray("steps").stream().map(x -> ((JsonObject) x).getString("id")))
          .containsExactlyInAnyOrder("one", "two");
    }
  }

  @Test
  void aStepOfAnotherMachineAStepTwiceOrAnotherVersionIsRefusedAndChangesNothing() {
    assertThat(fromA(report(1, "success", "", ok("two", 1))))
        .as("box reports a step naming box-b")
        .isEqualTo(409);
    assertThat(fromA(report(1, "success", "", ok("nope", 1)))).isEqualTo(409);
    assertThat(fromA(report(1, "success", "", ok("one", 4)))).isEqualTo(202);
    assertThat(fromB(report(1, "success", "", ok("one", 4))))
        .as("box-b reports a step naming box")
        .isEqualTo(409);
    assertThat(fromA(report(1, "success", "", ok("one", 4))))
        .as("the same step again, in another report")
        .isEqualTo(409);
    assertThat(fromB(report(1, "success", "", ok("two", 1), ok("two", 1)))).isEqualTo(409);
    assertThat(fromB(report(2, "success", "", ok("two", 1))))
        .as("a step of another version")
        .isEqualTo(409);
    assertThat(fromB(report(2, "refused", "version_changed")))
        .as("a refusal naming another version than the run's")
        .isEqualTo(409);

    JsonObject run = runs(a.alice).getJsonObject(0);
    assertThat(run.getJsonObject("workflow").getJsonArray("steps")).hasSize(1);
    assertThat(run.getJsonObject("workflow").getJsonArray("reports")).hasSize(1);
    assertThat(run.getString("outcome")).isEqualTo("success");

    // a refusal of the same run and version is merged: the run fails with its reason
    assertThat(fromB(report(1, "refused", "bad_signature"))).isEqualTo(202);
    run = runs(a.alice).getJsonObject(0);
    assertThat(run.getString("outcome")).isEqualTo("failure");
    assertThat(run.getString("reason")).isEqualTo("bad_signature");
  }

  @Test
  void anotherWorkspaceCannotReachTheRunAndARevokedMachineReportsNothing() {
    assertThat(fromA(report(1, "success", "", ok("one", 4)))).isEqualTo(202);
    String other =
        h.call("POST", "/v1/workspaces", a.bob, new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    Ed25519KeyPair ck = Ed25519KeyPair.generate();
    String c = machine(other, "box", ck);
    assertThat(send(other, c, ck, report(1, "success", "", ok("three", 1))))
        .as("workspace B has no such workflow: its machine cannot add a step to A's run")
        .isEqualTo(409);
    assertThat(send(other, c, ck, report(1, "refused", "not_found")))
        .as("a run id is only looked up in the machine's own workspace")
        .isEqualTo(202);
    assertThat(send(a.ws, c, ck, report(1, "success", "", ok("three", 1))))
        .as("B's machine signing as a machine of A")
        .isEqualTo(401);
    JsonObject run = runs(a.alice).getJsonObject(0);
    assertThat(run.getJsonObject("workflow").getJsonArray("reports")).hasSize(1);
    assertThat(runs(a.alice)).hasSize(1);

    assertThat(
            h.call("DELETE", "/v1/workspaces/" + a.ws + "/machines/" + b, a.alice, null).status())
        .isBetween(200, 204);
    assertThat(fromB(report(1, "success", "", ok("two", 1))))
        .as("a revoked machine")
        .isEqualTo(401);
    assertThat(runs(a.alice).getJsonObject(0).getJsonObject("workflow").getJsonArray("steps"))
        .hasSize(1);
  }
}
