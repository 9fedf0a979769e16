package dev.umbra.security;

import static dev.umbra.cli.CliHarness.approve;
import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.daemon.audit.DaemonAudit;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every admin action of the control plane reaches the audit store: a real control plane and a real
 * audit service share PostgreSQL and Redis, the actions go through the API (devices through the
 * real {@code umbra} CLI flows, which sign), and each test finds the stored event in {@code
 * audit.events} with its actor, target and outcome.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminActionAuditTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-admin-audit-test-0123456789";
  static final String DEPLOYMENT_CHAIN = "ffffffff-ffff-ffff-ffff-ffffffffffff";

  CliHarness h;
  Vertx vertx;
  TestPostgres pg;
  Path admin;
  String cpUrl;
  String ownerToken;
  String ownerAccount;

  @BeforeAll
  void start() throws Exception {
    h = CliHarness.start("admin-audit", BOOTSTRAP, ServiceName.AUDIT);
    vertx = h.vertx;
    pg = h.pg;
    cpUrl = h.cpUrl;
    admin = h.home("admin");
    ok(admin, "login", cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "first");
    ownerToken =
        new JsonObject(Files.readString(admin.resolve("cli/credentials.json")))
            .getString("api_token");
    ownerAccount = h.cp("GET", "/v1/me", ownerToken, null).body().getString("account_id");
  }

  @AfterAll
  void stop() throws Exception {
    h.close();
  }

  // ---------------------------------------------------------------- devices

  @Test
  void approvingADeviceIsAuditedWithTheAdminTheDeviceAndSuccess() throws Exception {
    Workspace ws = workspace();
    ok(admin, "device", "trust", "-w", ws.name);
    JsonObject req = pendingDevice(ws, "laptop");
    approve(admin, req, ws.name);
    assertStored(
        ws.id, "device.approved", "device:" + req.getString("id"), ownerAccount, "success");
  }

  @Test
  void rejectingADeviceRequestDeletesItAndIsAudited() throws Exception {
    Workspace ws = workspace();
    ok(admin, "device", "trust", "-w", ws.name);
    JsonObject req = pendingDevice(ws, "stranger");
    assertStored(
        ws.id, "device.trust_requested", "device:" + req.getString("id"), ownerAccount, "success");
    UmbraRun rejected =
        ok(admin, "devices", "reject", req.getString("id"), "-w", ws.name, "--json");
    assertThat(rejected.json().getString("status")).isEqualTo("rejected");
    assertThat(
            h.cp(
                    "GET",
                    "/v1/workspaces/" + ws.id + "/devices/" + req.getString("id"),
                    ownerToken,
                    null)
                .status())
        .isEqualTo(404);
    assertStored(
        ws.id, "device.rejected", "device:" + req.getString("id"), ownerAccount, "success");
    // a trusted device is not a request: it is revoked, not rejected
    String own =
        ok(admin, "devices", "list", "-w", ws.name, "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(d -> "trusted".equals(d.getString("status")))
            .findFirst()
            .orElseThrow()
            .getString("id");
    CliHarness.Response trusted =
        h.cp(
            "POST",
            "/v1/workspaces/" + ws.id + "/devices/" + own + "/rejection",
            ownerToken,
            new JsonObject());
    assertThat(trusted.status()).isEqualTo(409);
  }

  @Test
  void onlyAnAdminMayRejectAndTheRefusalIsAuditedAsAccessDenied() throws Exception {
    Workspace ws = workspace();
    ok(admin, "device", "trust", "-w", ws.name);
    JsonObject req = pendingDevice(ws, "tablet");
    Joined member = join(ws, "member");
    CliHarness.Response refused =
        h.cp(
            "POST",
            "/v1/workspaces/" + ws.id + "/devices/" + req.getString("id") + "/rejection",
            member.token,
            new JsonObject());
    assertThat(refused.status()).isEqualTo(403);
    assertThat(
            h.cp(
                    "GET",
                    "/v1/workspaces/" + ws.id + "/devices/" + req.getString("id"),
                    ownerToken,
                    null)
                .body()
                .getString("status"))
        .isEqualTo("pending");
    JsonObject denied =
        assertStored(ws.id, "access.denied", "workspace:" + ws.id, member.account, "denied");
    assertThat(denied.getJsonObject("metadata").getString("reason")).isEqualTo("role");
  }

  @Test
  void revokingADeviceIsAudited() throws Exception {
    Workspace ws = workspace();
    ok(admin, "device", "trust", "-w", ws.name);
    JsonObject req = pendingDevice(ws, "phone");
    approve(admin, req, ws.name);
    ok(admin, "devices", "revoke", req.getString("id"), "--no-rotate", "-w", ws.name);
    assertStored(ws.id, "device.revoked", "device:" + req.getString("id"), ownerAccount, "success");
  }

  // ---------------------------------------------------------------- members and invitations

  @Test
  void issuingAnInvitationIsAudited() throws Exception {
    Workspace ws = workspace();
    JsonObject inv =
        h.cp(
                "POST",
                "/v1/workspaces/" + ws.id + "/invitations",
                ownerToken,
                new JsonObject().put("role", "member"))
            .body();
    assertStored(
        ws.id, "member.invited", "invitation:" + inv.getString("id"), ownerAccount, "success");
  }

  @Test
  void cancellingAnInvitationIsAudited() throws Exception {
    Workspace ws = workspace();
    JsonObject inv =
        h.cp(
                "POST",
                "/v1/workspaces/" + ws.id + "/invitations",
                ownerToken,
                new JsonObject().put("role", "member"))
            .body();
    assertThat(
            h.cp(
                    "DELETE",
                    "/v1/workspaces/" + ws.id + "/invitations/" + inv.getString("id"),
                    ownerToken,
                    null)
                .status())
        .isEqualTo(204);
    assertStored(
        ws.id, "invite.revoked", "invitation:" + inv.getString("id"), ownerAccount, "success");
  }

  @Test
  void acceptingAnInvitationAddsAMemberAndIsAuditedWithTheNewAccount() throws Exception {
    Workspace ws = workspace();
    Joined joined = join(ws, "member");
    assertStored(ws.id, "member.joined", "member:" + joined.memberId, joined.account, "success");
  }

  @Test
  void changingAMembersRoleIsAudited() throws Exception {
    Workspace ws = workspace();
    Joined joined = join(ws, "member");
    CliHarness.Response changed =
        h.cp(
            "PATCH",
            "/v1/workspaces/" + ws.id + "/members/" + joined.memberId,
            ownerToken,
            new JsonObject().put("role", "viewer"));
    assertThat(changed.status()).as(changed.body().encode()).isEqualTo(200);
    assertStored(
        ws.id, "member.role_changed", "member:" + joined.memberId, ownerAccount, "success");
  }

  @Test
  void removingAMemberIsAudited() throws Exception {
    Workspace ws = workspace();
    Joined joined = join(ws, "member");
    assertThat(
            h.cp(
                    "DELETE",
                    "/v1/workspaces/" + ws.id + "/members/" + joined.memberId,
                    ownerToken,
                    null)
                .status())
        .isEqualTo(204);
    assertStored(ws.id, "member.removed", "member:" + joined.memberId, ownerAccount, "success");
  }

  // ---------------------------------------------------------------- API tokens (deployment chain:
  // a token is not in a workspace)

  @Test
  void creatingAnApiTokenIsAudited() throws Exception {
    JsonObject t =
        h.cp(
                "POST",
                "/v1/tokens",
                ownerToken,
                new JsonObject().put("name", "ci-" + UUID.randomUUID()))
            .body();
    assertStored(
        DEPLOYMENT_CHAIN, "token.created", "token:" + t.getString("id"), ownerAccount, "success");
  }

  @Test
  void revokingAnApiTokenIsAudited() throws Exception {
    JsonObject t =
        h.cp(
                "POST",
                "/v1/tokens",
                ownerToken,
                new JsonObject().put("name", "ci-" + UUID.randomUUID()))
            .body();
    assertThat(h.cp("DELETE", "/v1/tokens/" + t.getString("id"), ownerToken, null).status())
        .isEqualTo(204);
    assertStored(
        DEPLOYMENT_CHAIN, "token.revoked", "token:" + t.getString("id"), ownerAccount, "success");
  }

  // ---------------------------------------------------------------- what daemons report (signed
  // with the binding key)

  @Test
  void aDaemonsCommandRunReportIsStoredWithTheMachineExitStatusAndDurationAndAReplayAddsNothing()
      throws Exception {
    Workspace ws = workspace();
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    UUID mid = machine(ws, key);
    DaemonAudit.Report run = DaemonAudit.Report.commandRun(0xabcdefL, 3, 1250);
    DaemonAudit sender = new DaemonAudit(vertx, null, null, () -> key, Clock.systemUTC());
    String eventId = sender.newEventId();
    JsonObject body =
        DaemonAudit.body(
            UUID.fromString(ws.id), mid, System.currentTimeMillis(), eventId, run, key);
    CliHarness.Response taken = h.cp("POST", DaemonAudit.PATH, null, body);
    assertThat(taken.status()).as(taken.body().encode()).isEqualTo(202);
    JsonObject stored =
        assertStored(ws.id, "command.run", "machine:" + mid, mid.toString(), "success", "machine");
    assertThat(stored.getJsonObject("metadata").getMap())
        .containsEntry("exit_status", "3")
        .containsEntry("duration_ms", "1250")
        .containsEntry("channel", "abcdef")
        .doesNotContainKeys("argv", "command", "output");
    assertThat(h.cp("POST", DaemonAudit.PATH, null, body).status()).isEqualTo(202);
    // a later report is stored after the replay would have been (one ingest stream, in order)
    assertThat(
            h.cp(
                    "POST",
                    DaemonAudit.PATH,
                    null,
                    DaemonAudit.body(
                        UUID.fromString(ws.id),
                        mid,
                        System.currentTimeMillis(),
                        sender.newEventId(),
                        DaemonAudit.Report.tunnelOpened(1),
                        key))
                .status())
        .isEqualTo(202);
    assertStored(ws.id, "tunnel.opened", "machine:" + mid, mid.toString(), "success", "machine");
    assertThat(count(ws.id, "command.run"))
        .as("the replayed report is de-duplicated on its event id")
        .isEqualTo(1);
  }

  @Test
  void aDaemonsTunnelReportsCarryTheBytesCountedAndAForgedReportIsRefused() throws Exception {
    Workspace ws = workspace();
    Ed25519KeyPair key = Ed25519KeyPair.generate();
    UUID mid = machine(ws, key);
    DaemonAudit sender = new DaemonAudit(vertx, null, null, () -> key, Clock.systemUTC());
    UUID wid = UUID.fromString(ws.id);
    // signed by another key: refused before anything is emitted
    JsonObject forged =
        DaemonAudit.body(
            wid,
            mid,
            System.currentTimeMillis(),
            sender.newEventId(),
            DaemonAudit.Report.commandRun(8, 0, 1),
            Ed25519KeyPair.generate());
    assertThat(h.cp("POST", DaemonAudit.PATH, null, forged).status()).isEqualTo(401);
    assertThat(
            h.cp(
                    "POST",
                    DaemonAudit.PATH,
                    null,
                    DaemonAudit.body(
                        wid,
                        mid,
                        System.currentTimeMillis(),
                        sender.newEventId(),
                        DaemonAudit.Report.tunnelOpened(7),
                        key))
                .status())
        .isEqualTo(202);
    assertThat(
            h.cp(
                    "POST",
                    DaemonAudit.PATH,
                    null,
                    DaemonAudit.body(
                        wid,
                        mid,
                        System.currentTimeMillis(),
                        sender.newEventId(),
                        DaemonAudit.Report.tunnelClosed(7, 100, 2048, 40, ""),
                        key))
                .status())
        .isEqualTo(202);
    assertStored(ws.id, "tunnel.opened", "machine:" + mid, mid.toString(), "success", "machine");
    JsonObject closed =
        assertStored(
            ws.id, "tunnel.closed", "machine:" + mid, mid.toString(), "success", "machine");
    assertThat(closed.getJsonObject("metadata").getMap())
        .containsEntry("bytes_in", "100")
        .containsEntry("bytes_out", "2048")
        .containsEntry("channel", "7");
    assertThat(count(ws.id, "command.run"))
        .as("the forged report, sent before the tunnel reports, was not stored")
        .isZero();
  }

  UUID machine(Workspace ws, Ed25519KeyPair key) {
    CliHarness.Response created =
        h.cp(
            "POST",
            "/internal/v1/workspaces/" + ws.id + "/machines",
            null,
            new JsonObject()
                .put("install_id", UUID.randomUUID().toString())
                .put("x25519_public_key", X25519KeyPair.generate().publicKey().toHex())
                .put("ed25519_public_key", key.publicKey().toHex())
                .put("name", "box"),
            Map.of(InternalCredential.HEADER, h.internalToken));
    assertThat(created.status()).as(created.body().encode()).isEqualTo(201);
    return UUID.fromString(created.body().getString("id"));
  }

  long count(String workspace, String action) throws Exception {
    try (Connection c = pg.ownerConnection();
        PreparedStatement st =
            c.prepareStatement(
                "SELECT count(*) FROM audit.events WHERE workspace_id = ?::uuid AND action = ?")) {
      st.setString(1, workspace);
      st.setString(2, action);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  record Workspace(String name, String id) {}

  record Joined(String token, String memberId, String account) {}

  Workspace workspace() {
    String name = "ws-" + UUID.randomUUID().toString().substring(0, 8);
    ok(admin, "workspace", "create", name);
    String id =
        ok(admin, "workspace", "list", "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(j -> j.getString("name").equals(name))
            .findFirst()
            .orElseThrow()
            .getString("id");
    return new Workspace(name, id);
  }

  /** A second CLI of the owner's account asks to be trusted without waiting. */
  JsonObject pendingDevice(Workspace ws, String name) throws Exception {
    Path home = h.secondCli(admin, name + "-" + ws.name);
    return ok(home, "device", "trust", "-w", ws.name, "--wait", "0", "--json", "--name", name)
        .json();
  }

  Joined join(Workspace ws, String role) {
    String invite =
        h.cp(
                "POST",
                "/v1/workspaces/" + ws.id + "/invitations",
                ownerToken,
                new JsonObject().put("role", role))
            .body()
            .getString("token");
    CliHarness.Response accepted =
        h.cp("POST", "/v1/invitations/accept", null, new JsonObject().put("token", invite));
    assertThat(accepted.status()).as(accepted.body().encode()).isEqualTo(201);
    String token = accepted.body().getJsonObject("api_token").getString("token");
    return new Joined(
        token,
        accepted.body().getString("member_id"),
        h.cp("GET", "/v1/me", token, null).body().getString("account_id"));
  }

  /**
   * Polls {@code audit.events} (as the owner, so across RLS) until the event is stored, then checks
   * its actor, target and outcome, and that it came from the control plane.
   */
  JsonObject assertStored(
      String workspace, String action, String target, String actorId, String outcome)
      throws Exception {
    return assertStored(workspace, action, target, actorId, outcome, "member");
  }

  JsonObject assertStored(
      String workspace,
      String action,
      String target,
      String actorId,
      String outcome,
      String actorKind)
      throws Exception {
    String[] row =
        Eventually.until(
            action + " on " + target + " reached audit.events",
            Duration.ofSeconds(15),
            () -> {
              try (Connection c = pg.ownerConnection();
                  PreparedStatement st =
                      c.prepareStatement(
                          "SELECT actor_kind, actor_id, outcome, service, metadata::text FROM audit.events "
                              + "WHERE workspace_id = ?::uuid AND action = ? AND target = ? ORDER BY seq DESC LIMIT 1")) {
                st.setString(1, workspace);
                st.setString(2, action);
                st.setString(3, target);
                try (ResultSet rs = st.executeQuery()) {
                  return rs.next()
                      ? new String[] {
                        rs.getString("actor_kind"),
                        rs.getString("actor_id"),
                        rs.getString("outcome"),
                        rs.getString("service"),
                        rs.getString("metadata")
                      }
                      : null;
                }
              }
            },
            java.util.Objects::nonNull);
    assertThat(row[0]).as(action + " actor kind").isEqualTo(actorKind);
    assertThat(row[1]).as(action + " actor").isEqualTo(actorId);
    assertThat(row[2]).as(action + " outcome").isEqualTo(outcome);
    assertThat(row[3]).as(action + " service").isEqualTo("control-plane");
    return new JsonObject().put("metadata", new JsonObject(row[4]));
  }
}
