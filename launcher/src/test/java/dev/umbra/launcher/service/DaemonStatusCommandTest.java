package dev.umbra.launcher.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.daemon.run.DaemonStatus;
import dev.umbra.launcher.Cli;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code umbra daemon status} (docs/deploy.md, "Status"): the bindings of a UMBRA_HOME with what
 * its daemon last wrote to {@code daemon/status.json} — check-in, relay and engine connections,
 * trust pin version, last heartbeat — and exit 0 only while that heartbeat is recent.
 */
class DaemonStatusCommandTest {
  @TempDir Path tmp;

  Path home() {
    return tmp.resolve("umbra");
  }

  UmbraRun status(String... more) {
    String[] args = new String[3 + more.length];
    args[0] = "daemon";
    args[1] = "status";
    args[2] = "--home=" + home();
    System.arraycopy(more, 0, args, 3, more.length);
    return UmbraRun.of(tmp.resolve("cli-home"), Map.of(), Cli.commands(), args);
  }

  Binding paired() {
    BindingStore store = new BindingStore(home());
    var pending = store.prepare();
    Binding b =
        new Binding(
            UUID.randomUUID(),
            UUID.randomUUID(),
            pending.installId(),
            "http://127.0.0.1:1",
            "build-box",
            Instant.now().toString());
    store.commit(pending, b);
    return b;
  }

  void daemonWrote(Binding b, Instant heartbeat) {
    new DaemonStatus(
            "umbra 0.1.0",
            4242,
            heartbeat.minusSeconds(60),
            heartbeat,
            List.of(
                new DaemonStatus.Binding(
                    b.machineId(),
                    b.workspaceId(),
                    b.name(),
                    Optional.empty(),
                    true,
                    false,
                    Optional.of(3L))))
        .write(home());
  }

  @Test
  void withoutARunningDaemonStatusListsTheBindingsAndExitsThree() {
    Binding b = paired();
    UmbraRun r = status();
    assertThat(r.code()).as(r.err()).isEqualTo(3);
    assertThat(r.out())
        .contains("daemon: no status in " + home())
        .contains("bindings: 1")
        .contains("build-box  machine " + b.machineId());
  }

  @Test
  void aRecentHeartbeatShowsConnectionsAndThePinVersionOfEachBinding() throws Exception {
    Binding b = paired();
    daemonWrote(b, Instant.now());
    UmbraRun r = status();
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("daemon: running, pid 4242, umbra 0.1.0")
        .contains(
            "check-in ok; relay connected; WebTTY engine not connected; trust pin keyset version 3");
    JsonObject json = status("--json").json();
    assertThat(json.getBoolean("running")).isTrue();
    assertThat(json.getJsonArray("bindings").getJsonObject(0).getLong("trust_pin_version"))
        .isEqualTo(3L);
    Path file = home().resolve(DaemonStatus.FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");
  }

  @Test
  void aHeartbeatOlderThanThreePeriodsIsReportedAsNotRunning() {
    Binding b = paired();
    daemonWrote(b, Instant.now().minus(Duration.ofMinutes(10)));
    UmbraRun r = status();
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.out()).contains("daemon: not running (its last status is stale)");
  }
}
