package dev.umbra.cli;

import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.CanaryScan;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole first slice through the real `umbra` command: bootstrap, workspace, pairing code,
 * `umbra daemon pair`, `umbra machines list` shows the machine; against a real control plane and
 * pairing service on PostgreSQL and Redis.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-e2e-test-0123456789";
  CliHarness h;
  Traces traces;
  String cpUrl;
  Path admin;
  Path machine;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    h = CliHarness.start("e2e", BOOTSTRAP, ServiceName.PAIRING);
    traces.watch(h);
    cpUrl = h.cpUrl;
    admin = Files.createTempDirectory("umbra-e2e-admin").resolve("home");
    machine = Files.createTempDirectory("umbra-e2e-machine").resolve("home");
    UmbraRun login =
        umbra(admin, "login", cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
    assertThat(login.code()).as(login.err()).isZero();
  }

  @AfterAll
  void stop() throws Exception {
    h.close();
    traces.close();
  }

  @Test
  void bootstrapPairAndListMachines() throws Exception {
    UmbraRun ws = umbra(admin, "workspace", "list", "--json");
    assertThat(ws.code()).isZero();
    assertThat(ws.array().stream().map(JsonObject.class::cast).map(j -> j.getString("name")))
        .contains("dev");

    UmbraRun code = umbra(admin, "pair", "create", "--json", "--workspace", "dev");
    assertThat(code.code()).as(code.err()).isZero();
    String pairingCode = code.json().getString("code");
    assertThat(pairingCode).hasSize(26);

    UmbraRun pair =
        umbra(machine, "daemon", "pair", pairingCode, "--url", cpUrl, "--name", "local");
    assertThat(pair.code()).as(pair.err()).isZero();
    assertThat(pair.out()).contains("paired as machine");

    UmbraRun list = umbra(admin, "machines", "list", "--json", "--workspace", "dev");
    assertThat(list.code()).isZero();
    JsonObject m = local(list.array());
    assertThat(m.getString("name")).isEqualTo("local");
    assertThat(m.getString("status")).isEqualTo("active");

    Path bindingDir = machine.resolve("daemon/bindings").resolve(m.getString("id"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(bindingDir)))
        .isEqualTo("rwx------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(bindingDir.resolve("x25519.key"))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(bindingDir.resolve("ed25519.key"))))
        .isEqualTo("rw-------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(admin.resolve("cli/credentials.json"))))
        .isEqualTo("rw-------");
    assertThat(Files.readString(bindingDir.resolve("x25519.key")))
        .contains(m.getString("x25519_public_key"));

    UmbraRun human = umbra(admin, "machines", "list", "--workspace", "dev");
    assertThat(human.out()).contains("local").contains("active");

    UmbraRun run = umbra(machine, "daemon", "run", "--once");
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    JsonObject seen =
        local(umbra(admin, "machines", "list", "--json", "--workspace", "dev").array());
    assertThat(seen.getString("last_seen_at")).isNotNull();
  }

  static JsonObject local(JsonArray machines) {
    return machines.stream()
        .map(JsonObject.class::cast)
        .filter(j -> j.getString("name").equals("local"))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void pairingToASecondWorkspaceMakesAnUnlinkableIdentity() {
    UmbraRun first = umbra(admin, "pair", "create", "--json", "--workspace", "dev");
    assertThat(
            umbra(
                    machine,
                    "daemon",
                    "pair",
                    first.json().getString("code"),
                    "--url",
                    cpUrl,
                    "--name",
                    "box",
                    "--json")
                .code())
        .isZero();
    UmbraRun created = umbra(admin, "workspace", "create", "second", "--json");
    assertThat(created.code()).as(created.err()).isZero();
    UmbraRun second = umbra(admin, "pair", "create", "--json");
    UmbraRun pair2 =
        umbra(
            machine,
            "daemon",
            "pair",
            second.json().getString("code"),
            "--url",
            cpUrl,
            "--name",
            "box",
            "--json");
    assertThat(pair2.code()).as(pair2.err()).isZero();
    JsonObject a =
        umbra(admin, "machines", "list", "--json", "--workspace", "dev").array().stream()
            .map(JsonObject.class::cast)
            .filter(j -> j.getString("name").equals("box"))
            .findFirst()
            .orElseThrow();
    JsonObject b =
        umbra(admin, "machines", "list", "--json", "--workspace", "second")
            .array()
            .getJsonObject(0);
    assertThat(b.getString("id")).isNotEqualTo(a.getString("id"));
    assertThat(b.getString("install_id")).isNotEqualTo(a.getString("install_id"));
    assertThat(b.getString("x25519_public_key")).isNotEqualTo(a.getString("x25519_public_key"));
    assertThat(b.getString("ed25519_public_key")).isNotEqualTo(a.getString("ed25519_public_key"));
    assertThat(umbra(admin, "workspace", "use", "dev").code()).isZero();
  }

  @Test
  void pairingWithARequiredPskKeepsTheRelayPskForDaemonRunAndOnlyThen() throws Exception {
    String psk = "the-workspace-psk-for-the-relay";
    assertThat(umbra(admin, "pair", "set-psk", "--psk", psk, "--workspace", "dev").code()).isZero();
    Path home = machine.resolveSibling("psk-machine");
    String required =
        umbra(admin, "pair", "create", "--require-psk", "--json", "--workspace", "dev")
            .json()
            .getString("code");
    UmbraRun pair =
        umbra(
            home, "daemon", "pair", required, "--url", cpUrl, "--name", "psk-box", "--psk", psk,
            "--json");
    assertThat(pair.code()).as(pair.err()).isZero();
    var store = new dev.umbra.client.binding.BindingStore(home);
    var binding = store.list().getFirst();
    Path file =
        home.resolve("daemon/bindings")
            .resolve(binding.machineId().toString())
            .resolve("relay-psk.key");
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(file)).doesNotContain(psk);
    // exactly the key `umbra run --psk` derives on the member's side
    assertThat(store.relayPsk(binding))
        .contains(
            dev.umbra.crypto.noise.NoisePsk.fromBytes(
                dev.umbra.client.channel.ChannelProtocol.psk(
                    binding.workspaceId().toString(), psk)));

    // a code that did not require the PSK: nothing is kept, even if one was given
    Path other = machine.resolveSibling("plain-machine");
    String plain =
        umbra(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    assertThat(
            umbra(
                    other,
                    "daemon",
                    "pair",
                    plain,
                    "--url",
                    cpUrl,
                    "--name",
                    "plain-box",
                    "--psk",
                    psk)
                .code())
        .isZero();
    var otherStore = new dev.umbra.client.binding.BindingStore(other);
    assertThat(otherStore.relayPsk(otherStore.list().getFirst())).isEmpty();
  }

  @Test
  void tokensAreShownOnceAndWorkForLogin() throws Exception {
    UmbraRun created = umbra(admin, "tokens", "create", "ci");
    assertThat(created.code()).isZero();
    String token = created.out().trim();
    assertThat(token).startsWith("umb_").hasSize(63);
    assertThat(umbra(admin, "tokens", "list").out()).contains("ci").doesNotContain(token);
    Path script = Files.createTempDirectory("umbra-e2e-script").resolve("home");
    UmbraRun login = umbra(script, "login", cpUrl, "--token", token, "--workspace", "dev");
    assertThat(login.code()).as(login.err()).isZero();
    assertThat(umbra(script, "machines", "list").code()).isZero();
    assertThat(umbra(admin, "tokens", "list", "--json").out()).contains("last_used_at");
    String id =
        umbra(admin, "tokens", "list", "--json").array().stream()
            .map(JsonObject.class::cast)
            .filter(t -> t.getString("name").equals("ci"))
            .findFirst()
            .orElseThrow()
            .getString("id");
    assertThat(umbra(admin, "tokens", "revoke", id).code()).isZero();
    UmbraRun refused = umbra(script, "machines", "list");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).contains("invalid or revoked API token");
  }

  @Test
  void invitedMemberJoinsAndIsListed() throws Exception {
    UmbraRun inv =
        umbra(admin, "members", "invite", "--role", "viewer", "--json", "--workspace", "dev");
    assertThat(inv.code()).as(inv.err()).isZero();
    Path bob = Files.createTempDirectory("umbra-e2e-bob").resolve("home");
    UmbraRun join =
        umbra(
            bob, "login", cpUrl, "--invite-token", inv.json().getString("token"), "--name", "bob");
    assertThat(join.code()).as(join.err()).isZero();
    assertThat(umbra(admin, "members", "list", "--workspace", "dev").out())
        .contains("bob")
        .contains("viewer");
    UmbraRun denied = umbra(bob, "pair", "create");
    assertThat(denied.code()).isEqualTo(1);
    assertThat(denied.err()).contains("role");
  }

  @Test
  void renameAndRevokeAMachine() {
    String code =
        umbra(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    Path other = machine.resolveSibling("other-machine");
    assertThat(umbra(other, "daemon", "pair", code, "--url", cpUrl, "--name", "old-name").code())
        .isZero();
    assertThat(
            umbra(admin, "machines", "rename", "old-name", "new-name", "--workspace", "dev").code())
        .isZero();
    UmbraRun revoke = umbra(admin, "machines", "revoke", "new-name", "--workspace", "dev");
    assertThat(revoke.code()).as(revoke.err()).isZero();
    UmbraRun run = umbra(other, "daemon", "run", "--once");
    assertThat(run.code()).isEqualTo(1);
    assertThat(run.out()).contains("revoked");
  }

  @Test
  void loginWithTheBootstrapTokenAgainKeepsTheSavedLogin() {
    UmbraRun again =
        umbra(admin, "login", cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(again.out()).contains("already bootstrapped");
  }

  @Test
  void noRawTokenCodeOrPskIsStoredInTheDatabaseOrOnTheBus() throws Exception {
    List<String> secrets = new ArrayList<>();
    secrets.add(BOOTSTRAP);
    String cliToken =
        new JsonObject(Files.readString(admin.resolve("cli/credentials.json")))
            .getString("api_token");
    secrets.add(cliToken);
    String made = umbra(admin, "tokens", "create", "scan").out().trim();
    secrets.add(made);
    secrets.add(made.substring(20));
    secrets.add(
        umbra(admin, "members", "invite", "--json", "--workspace", "dev")
            .json()
            .getString("token"));
    String psk = "a-workspace-psk-for-the-scan-test";
    assertThat(umbra(admin, "pair", "set-psk", "--psk", psk, "--workspace", "dev").code()).isZero();
    secrets.add(psk);
    String used =
        umbra(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    String pending =
        umbra(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    assertThat(
            umbra(
                    machine.resolveSibling("scan-machine"),
                    "daemon",
                    "pair",
                    used,
                    "--url",
                    cpUrl,
                    "--name",
                    "scan")
                .code())
        .isZero();
    secrets.add(used);
    secrets.add(pending);

    String[] all = secrets.toArray(String[]::new);
    CanaryScan.Result tables = traces.tables(all);
    assertThat(tables.scanned())
        .contains(
            "control_plane.api_tokens",
            "control_plane.invitations",
            "pairing.codes",
            "pairing.workspace_psks");
    assertThat(tables.items()).isGreaterThan(20);
    assertThat(tables.found()).isEmpty();
    assertThat(traces.redis(all).scanned()).as("Redis keys of this run").isNotEmpty();
    assertThat(traces.logLines()).as("log lines of this run").isNotEmpty();
    assertThat(traces.outsideTables(all)).isEmpty();
  }

  @Test
  void errorsAreOneClearLineWithNonZeroExit() throws Exception {
    Path nobody = Files.createTempDirectory("umbra-e2e-nobody").resolve("home");
    UmbraRun r = umbra(nobody, "machines", "list");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("not logged in");
    UmbraRun bad = umbra(nobody, "daemon", "pair", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--url", cpUrl);
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains("pairing code is unknown, used, cancelled or expired");
    assertThat(nobody.resolve("daemon/bindings")).isEmptyDirectory();
    assertThat(umbra(nobody, "no-such-command").code()).isEqualTo(2);
  }
}
