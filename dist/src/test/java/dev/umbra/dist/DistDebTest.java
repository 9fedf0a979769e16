package dev.umbra.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package `package` built (docs/deploy.md, "Debian package"): what it holds, that
 * systemd accepts its unit, and — as root on a Debian machine — that it installs with apt-get, runs
 * {@code umbra --version} with no JDK on PATH, creates the service user and its 0700 home, and is
 * purged again without a trace.
 */
class DistDebTest {
  static final DistBuild BUILD = DistBuild.current();
  @TempDir Path tmp;

  Path deb() throws Exception {
    return InstalledDeb.deb(BUILD);
  }

  @Test
  void thePackageNamesItsVersionArchitectureAndMaintainerScripts() throws Exception {
    Proc info = Proc.run(Map.of(), "dpkg-deb", "--info", deb().toString());
    assertThat(info.exit()).as(info.output()).isZero();
    assertThat(info.output())
        .contains("Package: umbra")
        .contains("Version: " + BUILD.version().replace('-', '~'))
        .containsPattern("Architecture: (amd64|arm64)")
        .contains("postinst", "prerm", "postrm");
  }

  @Test
  void thePackageInstallsTheRuntimeTheCommandAndTheDaemonsUnit() throws Exception {
    Proc contents = Proc.run(Map.of(), "dpkg-deb", "--contents", deb().toString());
    assertThat(contents.exit()).as(contents.output()).isZero();
    assertThat(contents.output())
        .contains("./usr/lib/umbra/runtime/bin/java")
        .contains("./usr/lib/umbra/bin/umbra")
        .contains("./usr/bin/umbra -> ../lib/umbra/bin/umbra")
        .contains("./usr/lib/systemd/system/umbra-daemon.service")
        .doesNotContain("/home/", "/etc/");
    // every file root's, whoever built it
    assertThat(contents.output().lines()).allMatch(l -> l.contains(" root/root "));
  }

  @Test
  void systemdAcceptsThePackagesUnit() throws Exception {
    Path sa = Path.of("/usr/bin/systemd-analyze");
    if (!Files.isExecutable(sa)) {
      System.err.println(
          "SKIPPED: no systemd-analyze here (apt-get install systemd): unit not verified");
      assumeTrue(false, "no systemd-analyze");
    }
    Proc x = Proc.run(Map.of(), "dpkg-deb", "-x", deb().toString(), tmp.toString());
    assertThat(x.exit()).as(x.output()).isZero();
    String unit = Files.readString(tmp.resolve("usr/lib/systemd/system/umbra-daemon.service"));
    assertThat(unit).contains("ExecStart=/usr/bin/umbra daemon run", "User=umbra");
    // verify checks that ExecStart's program exists: point it at the unpacked one
    Path copy = tmp.resolve("umbra-daemon.service");
    Files.writeString(
        copy,
        unit.replace(
            "ExecStart=/usr/bin/umbra", "ExecStart=" + tmp.resolve("usr/lib/umbra/bin/umbra")));
    Proc verify = Proc.run(Map.of(), sa.toString(), "verify", copy.toString());
    assertThat(verify.exit()).as(verify.output()).isZero();
    assertThat(verify.output()).doesNotContainIgnoringCase("unknown").doesNotContain("rror");
  }

  @Test
  void asRootOnDebianAptGetInstallsItRunsWithoutAJdkAndPurgesItCleanly() throws Exception {
    InstalledDeb.assumeInstallable();
    try (InstalledDeb pkg = InstalledDeb.install(deb())) {
      assertThat(pkg.result().exit()).as(pkg.result().output()).isZero();
      // with its build-time start-up cache required: installed elsewhere than it was made
      boolean aot = Files.isRegularFile(Path.of("/usr/lib/umbra/lib/umbra-version.aot"));
      Proc version =
          Proc.run(
              Map.of(
                  "HOME", tmp.toString(), "UMBRA_JAVA_OPTS", aot ? "-XX:AOTMode=on" : "-Xshare:on"),
              "/usr/bin/umbra",
              "--version");
      assertThat(version.exit()).as(version.output()).isZero();
      assertThat(version.output()).startsWith("umbra ").contains("(build ");
      Proc user = Proc.run(Map.of(), "getent", "passwd", "umbra");
      assertThat(user.output()).contains(":/var/lib/umbra:/usr/sbin/nologin");
      Path home = Path.of("/var/lib/umbra");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home)))
          .isEqualTo("rwx------");
      assertThat(Files.getOwner(home).getName()).isEqualTo("umbra");
      // the installed command puts itself, /usr/bin/umbra, into the units it writes
      Proc unit =
          Proc.run(
              Map.of("HOME", tmp.toString()),
              "/usr/bin/umbra",
              "daemon",
              "install",
              "--root",
              tmp.resolve("root").toString());
      assertThat(unit.exit()).as(unit.output()).isZero();
      assertThat(tmp.resolve("root/etc/systemd/system/umbra-daemon.service"))
          .content()
          .contains("ExecStart=/usr/bin/umbra daemon run\n");
    }
    InstalledDeb.assertPurgedWithoutATrace();
  }
}
