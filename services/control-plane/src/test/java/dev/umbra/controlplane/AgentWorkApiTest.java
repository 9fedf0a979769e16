package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.sign.MachineRequests;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Agent work through the API (docs/agents.md): plans, inbox items and run records, each route tried
 * by its agent, an admin, a member of the team it is shared with, a member outside that team, a
 * member of another workspace only, a read-only token and a revoked device.
 */
@ExtendWith(VertxExtension.class)
class AgentWorkApiTest {
  Harness h;
  MessagingFixture.Scene s;
  String ws;
  String base;
  String owner;
  String bob;
  String bobRead;
  String carol;
  String mallory;
  String reviewers;
  String otherTeam;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    s = MessagingFixture.scene(h, "helper");
    ws = s.owner().workspaceId();
    base = "/v1/workspaces/" + ws;
    owner = s.owner().token();
    bob = join(ws, "member", "bob");
    carol = join(ws, "member", "carol");
    bobRead =
        h.call("POST", "/v1/tokens", bob, new JsonObject().put("name", "ro").put("scope", "read"))
            .body()
            .getString("token");
    reviewers = created(h.call("POST", base + "/teams", owner, new JsonObject().put("name", "r")));
    assertThat(
            h.call("PUT", base + "/teams/" + reviewers + "/members/" + memberId("bob"), owner, null)
                .status())
        .isEqualTo(204);
    String other =
        created(h.call("POST", "/v1/workspaces", owner, new JsonObject().put("name", "B")));
    mallory = join(other, "admin", "mallory");
    otherTeam =
        created(
            h.call(
                "POST",
                "/v1/workspaces/" + other + "/teams",
                owner,
                new JsonObject().put("name", "r")));
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  private static String created(Harness.Response r) {
    assertThat(r.status()).as(r.body().encode()).isEqualTo(201);
    return r.body().getString("id");
  }

  private String join(String workspace, String role, String name) {
    return h.join(owner, workspace, role, name);
  }

  private String memberId(String name) {
    return h.call("GET", base + "/members", owner, null).body().getJsonArray("items").stream()
        .map(JsonObject.class::cast)
        .filter(m -> m.getString("name").equals(name))
        .findFirst()
        .orElseThrow()
        .getString("id");
  }

  private int status(String method, String path, String token, JsonObject body) {
    return h.call(method, path, token, body).status();
  }

  private JsonObject plan(String title, String body, String... teams) {
    return new JsonObject()
        .put("title", title)
        .put("body", body)
        .put("steps", new JsonArray().add("read the code").add("change it"))
        .put("team_ids", new JsonArray(java.util.List.of((Object[]) teams)));
  }

  @Test
  void aPlanIsSeenByAdminsItsAuthorAndItsTeamsOnlyAndReviewedByMembers() {
    String agent = s.agent().session();
    Harness.Response pub =
        h.call("POST", base + "/plans", agent, plan("Refactor", "# Plan\n\n1. do it", reviewers));
    assertThat(pub.status()).as(pub.body().encode()).isEqualTo(201);
    String id = pub.body().getJsonObject("plan").getString("id");
    String path = base + "/plans/" + id;
    assertThat(pub.body().getJsonObject("shown").getString("body")).isEqualTo("# Plan\n\n1. do it");
    assertThat(pub.body().getJsonArray("team_ids")).containsExactly(reviewers);

    // who sees it
    assertThat(status("GET", path, owner, null)).isEqualTo(200);
    assertThat(status("GET", path, s.device().session(), null)).isEqualTo(200);
    assertThat(status("GET", path, bob, null)).isEqualTo(200);
    assertThat(status("GET", path, bobRead, null)).isEqualTo(200);
    assertThat(status("GET", path, carol, null)).isEqualTo(404);
    assertThat(h.call("GET", base + "/plans", carol, null).body().getJsonArray("items")).isEmpty();
    assertThat(h.call("GET", base + "/plans", bob, null).body().getJsonArray("items")).hasSize(1);
    assertThat(status("GET", path, mallory, null)).isEqualTo(404);

    // who reviews it
    JsonObject comment = new JsonObject().put("body", "looks fine\nmostly");
    JsonObject approve = new JsonObject().put("verdict", "approve");
    assertThat(status("POST", path + "/comments", carol, comment)).isEqualTo(404);
    assertThat(status("POST", path + "/comments", bobRead, comment)).isEqualTo(403);
    assertThat(status("POST", path + "/verdicts", bobRead, approve)).isEqualTo(403);
    assertThat(status("POST", path + "/verdicts", mallory, approve)).isEqualTo(404);
    assertThat(status("POST", path + "/verdicts", agent, approve)).isEqualTo(403);
    assertThat(status("POST", path + "/comments", agent, comment)).isEqualTo(201);
    assertThat(status("POST", path + "/comments", bob, comment)).isEqualTo(201);
    Harness.Response verdict = h.call("POST", path + "/verdicts", bob, approve);
    assertThat(verdict.status()).isEqualTo(201);
    // the agent learns the verdict
    JsonObject seen = h.call("GET", path, agent, null).body();
    assertThat(seen.getJsonObject("plan").getString("status")).isEqualTo("approved");
    assertThat(seen.getJsonArray("comments")).hasSize(2);

    // versions are kept; a new one is back in review; only its author or an admin revises
    assertThat(status("POST", path + "/versions", bob, plan("Refactor", "mine"))).isEqualTo(403);
    Harness.Response v2 = h.call("POST", path + "/versions", agent, plan("Refactor 2", "v2"));
    assertThat(v2.status()).isEqualTo(201);
    assertThat(v2.body().getJsonObject("plan").getString("status")).isEqualTo("in_review");
    assertThat(v2.body().getJsonObject("plan").getInteger("version")).isEqualTo(2);
    JsonObject v1 = h.call("GET", path + "?version=1", bob, null).body();
    assertThat(v1.getJsonObject("shown").getString("body")).isEqualTo("# Plan\n\n1. do it");
    h.call("POST", path + "/verdicts", bob, new JsonObject().put("verdict", "request_changes"));
    assertThat(h.call("GET", path, agent, null).body().getJsonObject("plan").getString("status"))
        .isEqualTo("changes_requested");

    // a revoked device's session is refused
    assertThat(MessagingFixture.revoke(h, s.device()).status()).isEqualTo(200);
    assertThat(status("GET", path, s.device().session(), null)).isEqualTo(403);
  }

  @Test
  void aShareNamesOnlyTeamsAndResourcesOfTheSameWorkspace() {
    String agent = s.agent().session();
    assertThat(status("POST", base + "/plans", agent, plan("x", "y", otherTeam))).isEqualTo(404);
    String id =
        h.call("POST", base + "/plans", agent, plan("x", "y"))
            .body()
            .getJsonObject("plan")
            .getString("id");
    String share = base + "/plans/" + id + "/shares/";
    assertThat(status("PUT", share + otherTeam, owner, null)).isEqualTo(404);
    assertThat(status("PUT", share + reviewers, carol, null)).isEqualTo(404);
    assertThat(status("PUT", share + reviewers, mallory, null)).isEqualTo(404);
    assertThat(status("GET", base + "/plans/" + id, bob, null)).isEqualTo(404);
    assertThat(status("PUT", share + reviewers, agent, null)).isEqualTo(204);
    assertThat(status("GET", base + "/plans/" + id, bob, null)).isEqualTo(200);
    // bob sees it now, but only an admin or its author changes its shares
    assertThat(status("DELETE", share + reviewers, bob, null)).isEqualTo(403);
    assertThat(status("DELETE", share + reviewers, owner, null)).isEqualTo(204);
    assertThat(status("GET", base + "/plans/" + id, bob, null)).isEqualTo(404);
    // another workspace's route never reaches this plan
    String otherWs =
        h.call("GET", "/v1/workspaces", mallory, null)
            .body()
            .getJsonArray("items")
            .getJsonObject(0)
            .getString("id");
    assertThat(status("GET", "/v1/workspaces/" + otherWs + "/plans/" + id, mallory, null))
        .isEqualTo(404);
    assertThat(
            status(
                "PUT",
                "/v1/workspaces/" + otherWs + "/plans/" + id + "/shares/" + otherTeam,
                mallory,
                null))
        .isEqualTo(404);
  }

  private JsonObject approveItem(int deadlineSeconds, String... teams) {
    return new JsonObject()
        .put("kind", "approve")
        .put("question", "run `rm -rf build`?")
        .put("default", "deny")
        .put("deadline_seconds", deadlineSeconds)
        .put("team_ids", new JsonArray(java.util.List.of((Object[]) teams)));
  }

  @Test
  void anInboxDecisionReachesTheWaitingAgentAtOnce() throws Exception {
    String agent = s.agent().session();
    assertThat(status("POST", base + "/inbox", owner, approveItem(300, reviewers))).isEqualTo(403);
    Harness.Response raised = h.call("POST", base + "/inbox", agent, approveItem(300, reviewers));
    assertThat(raised.status()).as(raised.body().encode()).isEqualTo(201);
    String item = base + "/inbox/" + raised.body().getString("id");

    long t0 = System.nanoTime();
    CompletableFuture<Harness.Response> waiting =
        CompletableFuture.supplyAsync(
            () -> h.call("GET", item + "/decision?wait_seconds=30", agent, null));
    JsonObject yes = new JsonObject().put("answer", "approve");
    assertThat(status("POST", item + "/decision", carol, yes)).isEqualTo(404);
    assertThat(status("POST", item + "/decision", mallory, yes)).isEqualTo(404);
    assertThat(status("POST", item + "/decision", bobRead, yes)).isEqualTo(403);
    assertThat(status("POST", item + "/decision", agent, yes)).isEqualTo(403);
    assertThat(
            h.call("POST", item + "/decision", bob, new JsonObject().put("answer", "maybe"))
                .errorField())
        .isEqualTo("answer");
    assertThat(h.call("GET", base + "/inbox?status=open", bob, null).body().getJsonArray("items"))
        .hasSize(1);
    assertThat(h.call("GET", base + "/inbox", carol, null).body().getJsonArray("items")).isEmpty();
    Dec decided = decide(item, bob, yes);
    assertThat(decided.status()).isEqualTo(200);

    Harness.Response seen = waiting.get(30, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    assertThat(seen.body().getString("status")).isEqualTo("decided");
    assertThat(seen.body().getString("answer")).isEqualTo("approve");
    assertThat(seen.body().getString("decided_by")).isNotNull();
    Harness.Response again = h.call("POST", item + "/decision", owner, yes);
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.errorCode()).isEqualTo("already_decided");
  }

  private record Dec(int status) {}

  private Dec decide(String item, String token, JsonObject answer) {
    return new Dec(status("POST", item + "/decision", token, answer));
  }

  @Test
  void anItemPastItsDeadlineTakesItsDefault() {
    String agent = s.agent().session();
    JsonObject choose =
        new JsonObject()
            .put("kind", "choose")
            .put("question", "which branch?")
            .put("options", new JsonArray().add("main").add("next"))
            .put("default", "next")
            .put("deadline_seconds", 10);
    assertThat(
            h.call("POST", base + "/inbox", agent, choose.copy().put("default", "other"))
                .errorField())
        .isEqualTo("default");
    String item = base + "/inbox/" + created(h.call("POST", base + "/inbox", agent, choose));
    h.clock.advance(Duration.ofSeconds(11));
    JsonObject seen = h.call("GET", item + "/decision?wait_seconds=5", agent, null).body();
    assertThat(seen.getString("status")).isEqualTo("expired");
    assertThat(seen.getString("answer")).isEqualTo("next");
    assertThat(status("POST", item + "/decision", owner, new JsonObject().put("answer", "main")))
        .isEqualTo(409);
  }

  @Test
  void aRunRecordComesFromTheMachinesSignedReportAndHoldsNumbersOnly() {
    MessagingFixture.Machine m = MessagingFixture.machine(h, ws);
    String eventId = "01JBZ3K6Q8W5X7Y9A1B2C3D4E5";
    JsonObject report = report(m, eventId);
    assertThat(h.call("POST", "/v1/machine-audit", null, report).status()).isEqualTo(202);
    assertThat(h.call("POST", "/v1/machine-audit", null, report(m, eventId)).status())
        .isEqualTo(202);
    JsonArray runs = h.call("GET", base + "/runs", owner, null).body().getJsonArray("items");
    assertThat(runs).hasSize(1);
    JsonObject run = runs.getJsonObject(0);
    assertThat(run.getInteger("exit_status")).isEqualTo(3);
    assertThat(run.getLong("bytes_out")).isEqualTo(4096);
    assertThat(run.fieldNames())
        .containsExactlyInAnyOrder(
            "id",
            "machine_id",
            "kind",
            "channel",
            "outcome",
            "reason",
            "exit_status",
            "started_at",
            "ended_at",
            "duration_ms",
            "bytes_in",
            "bytes_out");
    String one = base + "/runs/" + run.getString("id");
    assertThat(h.call("GET", base + "/runs", bob, null).body().getJsonArray("items")).isEmpty();
    assertThat(status("GET", one, bob, null)).isEqualTo(404);
    assertThat(status("GET", one, s.agent().session(), null)).isEqualTo(403);
    assertThat(status("GET", one, mallory, null)).isEqualTo(404);
    String share = base + "/machines/" + m.id() + "/shares/" + reviewers;
    assertThat(status("PUT", share, bob, null)).as("bob cannot see the machine").isEqualTo(404);
    assertThat(status("PUT", share, owner, null)).isEqualTo(204);
    assertThat(status("GET", one, bob, null)).isEqualTo(200);
    assertThat(status("GET", one, bobRead, null)).isEqualTo(200);
    assertThat(status("GET", one, carol, null)).isEqualTo(404);
    assertThat(
            h.call("GET", base + "/runs?machine_id=" + m.id(), bob, null)
                .body()
                .getJsonArray("items"))
        .hasSize(1);
  }

  @Test
  void anAgentSessionsRunRecordNamesItsSignedRuntimeAndNothingElse() {
    MessagingFixture.Machine m = MessagingFixture.machine(h, ws);
    String action = "agent_session.ended";
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-audit",
                    null,
                    report(m, "01JBZ3K6Q8W5X7Y9A1B2C3D4F1", action, "", ""))
                .status())
        .as("an agent session's report names its runtime")
        .isEqualTo(400);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-audit",
                    null,
                    report(m, "01JBZ3K6Q8W5X7Y9A1B2C3D4F2", "command.run", "bot", "bot"))
                .status())
        .as("a command's report names none")
        .isEqualTo(400);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-audit",
                    null,
                    report(m, "01JBZ3K6Q8W5X7Y9A1B2C3D4F3", action, "bot", "other"))
                .status())
        .as("the runtime is signed: another one in the body does not verify")
        .isNotEqualTo(202);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-audit",
                    null,
                    report(m, "01JBZ3K6Q8W5X7Y9A1B2C3D4F4", action, "bot", "bot"))
                .status())
        .isEqualTo(202);
    JsonObject run =
        h.call("GET", base + "/runs?machine_id=" + m.id(), owner, null)
            .body()
            .getJsonArray("items")
            .getJsonObject(0);
    assertThat(run.getString("kind")).isEqualTo("agent_session");
    assertThat(run.getString("runtime")).isEqualTo("bot");
    assertThat(run.getInteger("exit_status")).isEqualTo(3);
    assertThat(run.getLong("bytes_in")).isEqualTo(12);
  }

  @Test
  void aRunRecordHasNoColumnThatCouldHoldACommandLineOrOutput() throws Exception {
    java.util.Map<String, String> columns = new java.util.TreeMap<>();
    try (var c = h.pg.ownerConnection();
        var st =
            c.prepareStatement(
                "SELECT column_name, data_type, character_maximum_length FROM"
                    + " information_schema.columns WHERE table_name = 'run_records'");
        var rs = st.executeQuery()) {
      while (rs.next()) {
        columns.put(rs.getString(1), rs.getString(2));
      }
    }
    // text columns are bounded by CHECKs to ids and short codes (event_id 26, channel 16, reason
    // 32, runtime 32 and a short code, kind and outcome enumerated); no bytea, json or unbounded
    // free text a transcript could
    // land in: a new column fails this test until docs/agents.md says what it holds. The one
    // jsonb column, steps (a workflow run's step results), is written only from a parsed
    // WorkflowRunReport, which admits step ids, status codes and numbers, and is CHECKed to an
    // array of at most 50 (docs/agents.md, "Workflow runs"); workflow_name is CHECKed to 64.
    // run_id is CHECKed to 26 (a ULID); reports, the second jsonb, is written only from parsed
    // reports too (machine id, event id, outcome and reason code) and CHECKed to at most 50
    assertThat(columns)
        .containsExactlyInAnyOrderEntriesOf(
            java.util.Map.ofEntries(
                java.util.Map.entry("workspace_id", "uuid"),
                java.util.Map.entry("id", "uuid"),
                java.util.Map.entry("event_id", "text"),
                java.util.Map.entry("workflow_name", "text"),
                java.util.Map.entry("workflow_version", "bigint"),
                java.util.Map.entry("steps", "jsonb"),
                java.util.Map.entry("run_id", "text"),
                java.util.Map.entry("reports", "jsonb"),
                java.util.Map.entry("machine_id", "uuid"),
                java.util.Map.entry("kind", "text"),
                java.util.Map.entry("channel", "text"),
                java.util.Map.entry("outcome", "text"),
                java.util.Map.entry("reason", "text"),
                java.util.Map.entry("exit_status", "integer"),
                java.util.Map.entry("started_at", "timestamp with time zone"),
                java.util.Map.entry("ended_at", "timestamp with time zone"),
                java.util.Map.entry("duration_ms", "bigint"),
                java.util.Map.entry("bytes_in", "bigint"),
                java.util.Map.entry("bytes_out", "bigint"),
                java.util.Map.entry("runtime", "text")));
  }

  /** A machine's signed raise of {@code item} (its JSON text). */
  private JsonObject machineItem(MessagingFixture.Machine m, String item) {
    h.clock.advance(Duration.ofMillis(1));
    long ts = h.clock.millis();
    byte[] msg = MachineRequests.inbox(java.util.UUID.fromString(ws), m.id(), ts, item);
    return new JsonObject()
        .put("workspace_id", ws)
        .put("machine_id", m.id().toString())
        .put("timestamp_ms", ts)
        .put("signature", MessagingFixture.HEX.formatHex(m.key().privateKey().sign(msg)))
        .put("item", item);
  }

  /** A machine's signed wait for item {@code id}'s decision. */
  private JsonObject machineWait(MessagingFixture.Machine m, String id, int waitSeconds) {
    h.clock.advance(Duration.ofMillis(1));
    long ts = h.clock.millis();
    byte[] msg =
        MachineRequests.inboxDecision(
            java.util.UUID.fromString(ws), m.id(), ts, java.util.UUID.fromString(id), waitSeconds);
    return new JsonObject()
        .put("workspace_id", ws)
        .put("machine_id", m.id().toString())
        .put("timestamp_ms", ts)
        .put("signature", MessagingFixture.HEX.formatHex(m.key().privateKey().sign(msg)))
        .put("item_id", id)
        .put("wait_seconds", waitSeconds);
  }

  private static String runtimeItem(String id, String question) {
    return new JsonObject()
        .put("id", id)
        .put("session_id", "20261205T090000Z-0123456789ab")
        .put("kind", "approve")
        .put("question", question)
        .put("options", new JsonArray())
        .put("default", "deny")
        .put("deadline_seconds", 300)
        .encode();
  }

  @Test
  void aRuntimesItemRaisedByItsDaemonIsSharedWithTheMachinesTeamsAndDecidedForTheDaemon()
      throws Exception {
    MessagingFixture.Machine m = MessagingFixture.machine(h, ws);
    MessagingFixture.Machine other = MessagingFixture.machine(h, ws);
    assertThat(status("PUT", base + "/machines/" + m.id() + "/shares/" + reviewers, owner, null))
        .isEqualTo(204);
    String id = java.util.UUID.randomUUID().toString();
    String text = runtimeItem(id, "push the release tag?");
    JsonObject body = machineItem(m, text);
    Harness.Response raised = h.call("POST", "/v1/machine-inbox", null, body);
    assertThat(raised.status()).as(raised.body().encode()).isEqualTo(201);
    assertThat(raised.body().getString("id")).isEqualTo(id);
    assertThat(raised.body().getString("agent_id")).isNull();
    assertThat(raised.body().getString("machine_id")).isEqualTo(m.id().toString());
    assertThat(raised.body().getString("session_id")).isEqualTo("20261205T090000Z-0123456789ab");
    assertThat(raised.body().getJsonArray("team_ids")).containsExactly(reviewers);

    // a replay raises nothing more; an altered item or another machine's key does not verify
    assertThat(h.call("POST", "/v1/machine-inbox", null, body).body().getString("id"))
        .isEqualTo(id);
    JsonObject altered =
        machineItem(m, text).put("item", runtimeItem(id, "push the release tag now?"));
    assertThat(status("POST", "/v1/machine-inbox", null, altered)).isEqualTo(401);
    JsonObject forged =
        machineItem(other, runtimeItem(java.util.UUID.randomUUID().toString(), "x"));
    forged.put("machine_id", m.id().toString());
    assertThat(status("POST", "/v1/machine-inbox", null, forged)).isEqualTo(401);
    assertThat(
            h.call(
                    "POST",
                    "/v1/machine-inbox",
                    null,
                    machineItem(m, text.replace("\"deny\"", "\"maybe\"")))
                .errorField())
        .isEqualTo("default");
    assertThat(h.call("GET", base + "/inbox", owner, null).body().getJsonArray("items")).hasSize(1);

    // who sees and decides it: admins, the machine's teams; never another workspace or machine
    String item = base + "/inbox/" + id;
    assertThat(status("GET", item, bob, null)).isEqualTo(200);
    assertThat(status("GET", item, bobRead, null)).isEqualTo(200);
    assertThat(status("GET", item, carol, null)).isEqualTo(404);
    assertThat(status("GET", item, mallory, null)).isEqualTo(404);
    assertThat(status("GET", item, s.agent().session(), null)).isEqualTo(404);
    assertThat(status("POST", "/v1/machine-inbox-decision", null, machineWait(other, id, 0)))
        .isEqualTo(404);
    long t0 = System.nanoTime();
    CompletableFuture<Harness.Response> waiting =
        CompletableFuture.supplyAsync(
            () -> h.call("POST", "/v1/machine-inbox-decision", null, machineWait(m, id, 30)));
    JsonObject yes = new JsonObject().put("answer", "approve");
    assertThat(status("POST", item + "/decision", carol, yes)).isEqualTo(404);
    assertThat(status("POST", item + "/decision", mallory, yes)).isEqualTo(404);
    assertThat(status("POST", item + "/decision", bobRead, yes)).isEqualTo(403);
    assertThat(status("POST", item + "/decision", s.agent().session(), yes)).isEqualTo(404);
    assertThat(status("POST", item + "/decision", bob, yes)).isEqualTo(200);
    Harness.Response seen = waiting.get(30, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    assertThat(seen.status()).as(seen.body().encode()).isEqualTo(200);
    assertThat(seen.body().getString("status")).isEqualTo("decided");
    assertThat(seen.body().getString("answer")).isEqualTo("approve");

    // a revoked device, a revoked machine
    assertThat(MessagingFixture.revoke(h, s.device()).status()).isEqualTo(200);
    assertThat(status("GET", item, s.device().session(), null)).isEqualTo(403);
    assertThat(status("DELETE", base + "/machines/" + m.id(), owner, null)).isBetween(200, 204);
    assertThat(status("POST", "/v1/machine-inbox-decision", null, machineWait(m, id, 0)))
        .isEqualTo(401);
    assertThat(
            status(
                "POST",
                "/v1/machine-inbox",
                null,
                machineItem(m, runtimeItem(java.util.UUID.randomUUID().toString(), "again?"))))
        .isEqualTo(401);
  }

  @Test
  void aRuntimesItemPastItsDeadlineTakesItsDefaultForTheWaitingDaemon() {
    MessagingFixture.Machine m = MessagingFixture.machine(h, ws);
    String id = java.util.UUID.randomUUID().toString();
    // the deadline field only: a bare "300" also turns up in one random id in about 140
    String text =
        runtimeItem(id, "tag it?").replace("\"deadline_seconds\":300", "\"deadline_seconds\":10");
    assertThat(status("POST", "/v1/machine-inbox", null, machineItem(m, text))).isEqualTo(201);
    h.clock.advance(Duration.ofSeconds(11));
    JsonObject seen =
        h.call("POST", "/v1/machine-inbox-decision", null, machineWait(m, id, 5)).body();
    assertThat(seen.getString("status")).isEqualTo("expired");
    assertThat(seen.getString("answer")).isEqualTo("deny");
  }

  private JsonObject report(MessagingFixture.Machine m, String eventId) {
    return report(m, eventId, "command.run", "", "");
  }

  /**
   * A machine's signed report of {@code action}; {@code runtime} is signed, {@code sentRuntime} is
   * the body's (empty: none).
   */
  private JsonObject report(
      MessagingFixture.Machine m,
      String eventId,
      String action,
      String runtime,
      String sentRuntime) {
    h.clock.advance(Duration.ofMillis(1));
    long ts = h.clock.millis();
    byte[] msg =
        MachineRequests.audit(
            java.util.UUID.fromString(ws),
            m.id(),
            ts,
            new MachineRequests.AuditReport(
                eventId, action, "1f", "success", "", 3, 1500, 12, 4096),
            runtime);
    JsonObject body =
        new JsonObject()
            .put("workspace_id", ws)
            .put("machine_id", m.id().toString())
            .put("timestamp_ms", ts)
            .put("event_id", eventId)
            .put("action", action)
            .put("channel", "1f")
            .put("outcome", "success")
            .put("exit_status", 3)
            .put("duration_ms", 1500)
            .put("bytes_in", 12)
            .put("bytes_out", 4096)
            .put("signature", MessagingFixture.HEX.formatHex(m.key().privateKey().sign(msg)));
    return sentRuntime.isEmpty() ? body : body.put("runtime", sentRuntime);
  }
}
