package dev.umbra.launcher.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.launcher.Cli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code umbra daemon install|uninstall} into a test root (docs/deploy.md, "The daemon as a
 * service"): the unit runs the daemon as its own unprivileged user with its own 0700 home, restarts
 * it with back-off, sandboxes it and logs to the journal; systemd accepts it; nothing outside the
 * root is touched, and the command says what it left undone.
 */
class DaemonInstallTest {
  @TempDir Path home;
  @TempDir Path root;

  UmbraRun umbra(String... args) {
    return UmbraRun.of(home, Map.of(), Cli.commands(), args);
  }

  Path unit() {
    return root.resolve("etc/systemd/system/umbra-daemon.service");
  }

  @Test
  void installWritesASandboxedRestartingUnitForAnUnprivilegedUserIntoTheRoot() throws Exception {
    UmbraRun r =
        umbra("daemon", "install", "--root", root.toString(), "--exec", "/usr/bin/umbra")
            .assertOk("daemon install");
    assertThat(r.out()).contains("wrote " + unit()).contains("not this machine's root");
    String text = Files.readString(unit());
    assertThat(text)
        .contains("User=umbra\n", "Group=umbra\n")
        .contains("Environment=UMBRA_HOME=/var/lib/umbra\n")
        .contains("StateDirectory=umbra\n", "StateDirectoryMode=0700\n", "UMask=0077\n")
        .contains("ExecStart=/usr/bin/umbra daemon run\n")
        .contains("Restart=on-failure\n", "RestartSec=5s\n", "StartLimitIntervalSec=0\n")
        .contains("NoNewPrivileges=yes\n", "ProtectSystem=strict\n", "ProtectHome=yes\n")
        .contains("PrivateTmp=yes\n", "ReadWritePaths=/var/lib/umbra\n")
        .contains("StandardOutput=journal\n", "StandardError=journal\n")
        .contains("WantedBy=multi-user.target\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(unit())))
        .isEqualTo("rw-r--r--");
    // only the unit: no home, user or anything else under the root
    try (var all = Files.walk(root)) {
      assertThat(all.filter(Files::isRegularFile)).containsExactly(unit());
    }
  }

  @Test
  void theBackOffGrowsOnSystemdThatKnowsHowAndIsConstantOnOlderOnes() {
    SystemdUnit modern =
        new SystemdUnit("umbra", Path.of("/var/lib/umbra"), Path.of("/usr/bin/umbra"), 254);
    SystemdUnit bookworm =
        new SystemdUnit("umbra", Path.of("/var/lib/umbra"), Path.of("/usr/bin/umbra"), 252);
    assertThat(modern.render()).contains("RestartSteps=10\n", "RestartMaxDelaySec=5min\n");
    assertThat(bookworm.render()).doesNotContain("RestartSteps").contains("RestartSec=5s\n");
  }

  @Test
  void aHomeUnderHomeStaysWritableAndOutsideVarLibHasNoStateDirectory() {
    String text =
        new SystemdUnit("alice", Path.of("/home/alice/.umbra"), Path.of("/usr/bin/umbra"), 252)
            .render();
    assertThat(text)
        .contains("ProtectHome=read-only\n", "ReadWritePaths=/home/alice/.umbra\n")
        .doesNotContain("StateDirectory");
  }

  @Test
  void systemdAnalyzeVerifyAcceptsTheWrittenUnit() throws Exception {
    Path sa = Path.of("/usr/bin/systemd-analyze");
    if (!Files.isExecutable(sa)) {
      System.err.println("SKIPPED: no systemd-analyze here (apt-get install systemd)");
      assumeTrue(false, "no systemd-analyze");
    }
    // verify checks that ExecStart's program exists: any executable will do
    umbra("daemon", "install", "--root", root.toString(), "--exec", "/bin/sh")
        .assertOk("daemon install");
    Process p =
        new ProcessBuilder(sa.toString(), "verify", unit().toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).doesNotContainIgnoringCase("unknown").doesNotContain("rror");
  }

  @Test
  void rootAndNamesOrPathsAUnitCouldMisreadAreRefusedAsUsageErrors() throws Exception {
    assertThat(umbra("daemon", "install", "--root", root.toString(), "--user", "root").code())
        .isEqualTo(2);
    assertThat(
            umbra("daemon", "install", "--root", root.toString(), "--home", "/var/lib/um bra")
                .code())
        .isEqualTo(2);
    assertThat(
            umbra("daemon", "install", "--root", root.toString(), "--user", "u\nExecStartPre=x")
                .code())
        .isEqualTo(2);
    assertThat(
            umbra("daemon", "install", "--root", root.toString(), "--exec", "/usr/bin/%h").code())
        .isEqualTo(2);
    assertThat(unit()).doesNotExist();
  }

  @Test
  void uninstallRemovesTheUnitAndSaysWhenThereIsNone() {
    umbra("daemon", "install", "--root", root.toString(), "--exec", "/usr/bin/umbra")
        .assertOk("daemon install");
    UmbraRun r = umbra("daemon", "uninstall", "--root", root.toString()).assertOk("uninstall");
    assertThat(r.out()).contains("removed " + unit());
    assertThat(unit()).doesNotExist();
    assertThat(umbra("daemon", "uninstall", "--root", root.toString()).out())
        .contains("no unit at");
  }
}
