package dev.umbra.cli.tty;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.client.ttypolicy.TtyPolicyPin;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.daemon.tty.TtyServer;
import dev.umbra.daemon.ttypolicy.TtyPolicySync;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.webtty.WebTtyService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The WebTTY server policy end to end (docs/webtty.md, "Server policy"): an admin signs it with
 * `umbra machines policy` on a trusted device, the control plane stores it, the daemon fetches and
 * verifies it against its pinned trust and re-registers, and the engine enforces it on real
 * PostgreSQL and Redis. A control plane that forges or rolls back the stored document is refused by
 * the daemon, which keeps the last good policy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TtyPolicyEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-tty-policy-test-0123456789";
  CliHarness h;
  ProtectedTtyMachine local;
  Vertx vertx;
  TestPostgres pg;
  Path tmp;
  Path admin;
  Path machine;
  String cpUrl;
  UUID wid;
  String serverId;
  BindingStore store;
  Binding binding;
  TtyDaemon daemon;
  WebTtyService engine;

  @BeforeAll
  void start() throws Exception {
    h = CliHarness.start("tty-policy", BOOTSTRAP, ServiceName.PAIRING, ServiceName.WEBTTY_ENGINE);
    vertx = h.vertx;
    pg = h.pg;
    tmp = h.tmp;
    cpUrl = h.cpUrl;
    engine = h.service(ServiceName.WEBTTY_ENGINE, WebTtyService.class);
    local = ProtectedTtyMachine.start(h);
    admin = local.admin;
    machine = local.machine;
    store = local.store;
    binding = local.binding;
    wid = local.wid;
    serverId = local.serverId;
    daemon = local.daemon;
  }

  @AfterAll
  void stop() throws Exception {
    local.close();
    h.close();
  }

  TtyServer server() {
    return local.server();
  }

  void syncTrust() {
    local.syncTrust();
  }

  ServerPolicy syncDaemon() throws Exception {
    return local.syncDaemon();
  }

  /**
   * Runs a command through `umbra tty` and returns the recorded rows of its session as
   * "kind:stream".
   */
  List<String> runAndRecordedRows(String line) throws Exception {
    UmbraRun tty = umbra(admin, "tty", "local", "--command", line);
    assertThat(tty.code()).as(tty.out() + tty.err()).isZero();
    Futures.await(engine.recordingWriter().drained(), Duration.ofSeconds(10));
    List<String> rows = new ArrayList<>();
    try (Connection c = pg.ownerConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT e.kind, e.stream FROM webtty.events e WHERE e.session_id = "
                    + "(SELECT session_id FROM webtty.sessions WHERE server_id = ? ORDER BY started_at DESC LIMIT 1) ORDER BY e.sequence")) {
      ps.setString(1, serverId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(rs.getInt(1) + ":" + rs.getInt(2));
        }
      }
    }
    return rows;
  }

  void sql(String sql, Object... args) throws Exception {
    try (Connection c = pg.ownerConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    }
  }

  @Test
  @Order(1)
  void withoutAPolicyTheBuiltInDefaultRecordsEverything() throws Exception {
    ServerPolicy p = syncDaemon();
    assertThat(p.getRecording()).isTrue();
    assertThat(p.getRecordStdin()).isTrue();
    assertThat(p.getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    assertThat(ok(admin, "machines", "policy", "local").out()).contains("no WebTTY policy set");
    List<String> rows = runAndRecordedRows("echo default-$((6*7))");
    assertThat(rows).contains("1:1", "1:2");
  }

  @Test
  @Order(2)
  void anAdminsSignedPolicyReachesTheDaemonAndTheEngineEnforcesIt() throws Exception {
    ok(
        admin,
        "machines",
        "policy",
        "local",
        "--recording",
        "off",
        "--join",
        "nobody",
        "--record-stdin",
        "off");
    String shown = ok(admin, "machines", "policy", "local").out();
    assertThat(shown)
        .contains("v1")
        .contains("recording off")
        .contains("join nobody")
        .contains("(verified)");
    ServerPolicy p = syncDaemon();
    assertThat(p.getRecording()).isFalse();
    assertThat(p.getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_NOBODY);
    assertThat(runAndRecordedRows("echo off-$((6*7))"))
        .as("recording off: no event rows")
        .isEmpty();

    // recording back on, stdin not recorded: output rows, no stdin row
    ok(admin, "machines", "policy", "local", "--recording", "on");
    p = syncDaemon();
    assertThat(p.getRecording()).isTrue();
    assertThat(p.getRecordStdin()).isFalse();
    assertThat(p.getJoin())
        .as("options not given keep the verified values")
        .isEqualTo(JoinPolicy.JOIN_POLICY_NOBODY);
    List<String> rows = runAndRecordedRows("echo on-$((6*7))");
    assertThat(rows).contains("1:2").doesNotContain("1:1");
  }

  @Test
  @Order(3)
  void aPolicyTheControlPlaneForgedOrRolledBackIsRefusedAndTheDaemonKeepsTheLastGoodOne()
      throws Exception {
    ok(admin, "machines", "policy", "local", "--join", "admins");
    ServerPolicy good = syncDaemon();
    assertThat(good.getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_GRANTED_ADMINS);
    String goodPayload;
    byte[] goodSignature;
    try (Connection c = pg.ownerConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT payload, signature FROM control_plane.webtty_policies")) {
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        goodPayload = rs.getString(1);
        goodSignature = rs.getBytes(2);
      }
    }
    TtyPolicySync sync = new TtyPolicySync(new JsonHttp(), Clock.systemUTC());
    java.nio.file.Path dir = store.root().resolve(serverId);

    // forged: a higher version opening joins to members, under the signature of the genuine
    // document
    String forged =
        goodPayload
            .replace("\"join\":\"admins\"", "\"join\":\"members\"")
            .replace("\"version\":3", "\"version\":9");
    assertThat(forged).isNotEqualTo(goodPayload);
    sql(
        "UPDATE control_plane.webtty_policies SET payload = ?, version = 9, join_policy = 'members'",
        forged);
    assertThat(
            sync.sync(
                    binding, dir, store.signingKey(binding), TrustStore.forBinding(store, binding))
                .servedRefused())
        .contains(TtyPolicyPin.Refusal.BAD_SIGNATURE);
    assertThat(syncDaemon()).isEqualTo(good);

    // the CLI, verifying the stored document itself, shows the forgery too
    JsonObject shown = new JsonObject(ok(admin, "machines", "policy", "local", "--json").out());
    assertThat(shown.getBoolean("verified")).isFalse();
    assertThat(shown.getString("problem")).contains("signature does not verify");

    // rolled back: the genuine version 3 document (join admins) served again after version 4 (join
    // members)
    sql(
        "UPDATE control_plane.webtty_policies SET payload = ?, signature = ?, version = 3, join_policy = 'admins'",
        goodPayload,
        goodSignature);
    ok(admin, "machines", "policy", "local", "--join", "members");
    String v4;
    byte[] v4sig;
    try (Connection c = pg.ownerConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT payload, signature FROM control_plane.webtty_policies")) {
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        v4 = rs.getString(1);
        v4sig = rs.getBytes(2);
      }
    }
    assertThat(v4).contains("\"version\":4");
    ServerPolicy members = syncDaemon();
    assertThat(members.getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    sql(
        "UPDATE control_plane.webtty_policies SET payload = ?, signature = ?, version = 3, join_policy = 'admins'",
        goodPayload,
        goodSignature);
    assertThat(
            sync.sync(
                    binding, dir, store.signingKey(binding), TrustStore.forBinding(store, binding))
                .servedRefused())
        .contains(TtyPolicyPin.Refusal.ROLLED_BACK);
    assertThat(syncDaemon()).isEqualTo(members);

    // withheld: nothing served keeps the held policy as well (the genuine row is put back
    // afterwards)
    sql(
        "UPDATE control_plane.webtty_policies SET payload = ?, signature = ?, version = 4, join_policy = 'members'",
        v4,
        v4sig);
    sql("CREATE TABLE public.withheld_policy AS SELECT * FROM control_plane.webtty_policies");
    sql("DELETE FROM control_plane.webtty_policies");
    assertThat(syncDaemon()).isEqualTo(members);
    assertThat(
            sync.sync(
                    binding, dir, store.signingKey(binding), TrustStore.forBinding(store, binding))
                .held())
        .isPresent();
    sql("INSERT INTO control_plane.webtty_policies SELECT * FROM public.withheld_policy");
  }

  /** Another CLI of the same (admin) account, trusted through the code flow. */
  Path trustedSecond(String name) throws Exception {
    return h.trustedSecond(admin, name, "dev");
  }

  @Test
  @Order(4)
  void whenTheSignerIsRevokedTheDaemonAppliesTheStrictestPolicyUntilAnAdminSignsAgain()
      throws Exception {
    Path laptop = trustedSecond("laptop");
    String id =
        new dev.umbra.cli.devices.DeviceStore(laptop, wid).load().orElseThrow().id().toString();
    ok(
        laptop,
        "machines",
        "policy",
        "local",
        "-w",
        "dev",
        "--recording",
        "on",
        "--join",
        "admins",
        "--record-stdin",
        "on");
    ServerPolicy byLaptop = syncDaemon();
    assertThat(byLaptop.getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_GRANTED_ADMINS);
    assertThat(byLaptop.getRecording()).isTrue();

    // the laptop is revoked (and the keyset rotates): its policy no longer counts once the daemon
    // follows
    ok(admin, "devices", "revoke", id, "-w", "dev");
    ServerPolicy strictest = syncDaemon();
    assertThat(strictest.getRecording()).isFalse();
    assertThat(strictest.getRecordStdin()).isFalse();
    assertThat(strictest.getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_NOBODY);
    String shown = ok(admin, "machines", "policy", "local").out();
    assertThat(shown).contains("NOT VERIFIED").contains("no longer a trusted device");

    // an admin on a trusted device signs a new version: it applies again
    UmbraRun partial = umbra(admin, "machines", "policy", "local", "--join", "members");
    assertThat(partial.code())
        .as("values not given cannot come from a document that does not verify")
        .isNotZero();
    ok(
        admin,
        "machines",
        "policy",
        "local",
        "--recording",
        "on",
        "--join",
        "members",
        "--record-stdin",
        "on");
    ServerPolicy resigned = syncDaemon();
    assertThat(resigned.getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    assertThat(resigned.getRecording()).isTrue();
  }
}
