package dev.umbra.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Debian package `package` built, installed with apt-get for one test and purged again: only as
 * root on a Debian machine (apt-get and dpkg), and never over a package umbra already installed
 * here. A test that cannot install it is skipped with a message saying why, never failed.
 */
final class InstalledDeb implements AutoCloseable {
  /** apt-get without questions; it waits up to 120 s for the dpkg lock of another apt-get. */
  private static final Map<String, String> APT = Map.of("DEBIAN_FRONTEND", "noninteractive");

  private static final String[] APT_GET = {"apt-get", "-o", "DPkg::Lock::Timeout=120"};

  private final Proc install;

  private InstalledDeb(Proc install) {
    this.install = install;
  }

  /** The one umbra_*.deb in the build's target directory. */
  static Path deb(DistBuild build) throws Exception {
    try (var files = Files.list(build.target())) {
      return files
          .filter(p -> p.getFileName().toString().matches("umbra_.*\\.deb"))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no umbra_*.deb in " + build.target()));
    }
  }

  /** Skips the calling test, loudly, unless this machine lets it install and purge the package. */
  static void assumeInstallable() throws Exception {
    if (!DistBuild.isRoot()
        || !Files.isExecutable(Path.of("/usr/bin/apt-get"))
        || !Files.isExecutable(Path.of("/usr/bin/dpkg"))) {
      System.err.println(
          "SKIPPED: installing the .deb needs root on a Debian machine with apt-get and dpkg"
              + " (run the build as root to check it)");
      assumeTrue(false, "not root on Debian");
    }
    if (installed()) {
      System.err.println("SKIPPED: a package umbra is installed on this machine; not replacing it");
      assumeTrue(false, "umbra already installed");
    }
  }

  /** Installs {@code deb}; the caller closes (purges) it whatever happens next. */
  static InstalledDeb install(Path deb) throws Exception {
    // apt-get wants the path of a local package to start with ./ or /
    return new InstalledDeb(Proc.run(APT, command("install", "-y", deb.toString())));
  }

  /** What apt-get install printed and returned. */
  Proc result() {
    return install;
  }

  private static boolean installed() throws Exception {
    Proc q = Proc.run(Map.of(), "dpkg-query", "-W", "-f=${Status}", "umbra");
    return q.exit() == 0 && q.output().contains("installed");
  }

  private static String[] command(String... args) {
    String[] all = new String[APT_GET.length + args.length];
    System.arraycopy(APT_GET, 0, all, 0, APT_GET.length);
    System.arraycopy(args, 0, all, APT_GET.length, args.length);
    return all;
  }

  /** Purges the package when dpkg knows it (also half-installed), and fails when that fails. */
  @Override
  public void close() throws Exception {
    if (Proc.run(Map.of(), "dpkg-query", "-W", "umbra").exit() == 0) {
      Proc purge = Proc.run(APT, command("purge", "-y", "umbra"));
      assertThat(purge.exit()).as(purge.output()).isZero();
    }
  }

  /** After {@link #close()}: nothing of the package is left, neither files nor its user. */
  static void assertPurgedWithoutATrace() throws Exception {
    assertThat(Path.of("/usr/lib/umbra")).doesNotExist();
    assertThat(Path.of("/usr/bin/umbra")).doesNotExist();
    assertThat(Path.of("/var/lib/umbra")).doesNotExist();
    assertThat(Proc.run(Map.of(), "getent", "passwd", "umbra").exit()).isNotZero();
  }
}
