package dev.umbra.launcher.service;

import dev.umbra.cli.UsageException;
import dev.umbra.crypto.keys.KeyFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Installs and removes the daemon's systemd unit (docs/deploy.md, "The daemon as a service"). Into
 * any {@code root}: only when it is {@code /} does it create the service user and home and, when
 * systemd runs here, reload it and enable and start (or stop and disable) the service; under any
 * other root (tests, package builds) it only writes files and says what it left to do.
 */
public final class ServiceInstaller {
  /** Where systemd runs: what its own documentation says to test (sd_booted). */
  static final Path SYSTEMD_RUNNING = Path.of("/run/systemd/system");

  private final Path root;
  private final PrintStream out;

  public ServiceInstaller(Path root, PrintStream out) {
    this.root = root.toAbsolutePath().normalize();
    this.out = out;
  }

  boolean live() {
    return root.equals(Path.of("/"));
  }

  /** Is systemd the running init of this machine (and this the machine's root)? */
  public boolean systemdRunning() {
    return live() && Files.isDirectory(SYSTEMD_RUNNING);
  }

  Path inRoot(Path absolute) {
    return root.resolve(Path.of("/").relativize(absolute));
  }

  public Path unitFile(Path unitDir) {
    return inRoot(unitDir).resolve(SystemdUnit.NAME);
  }

  /** The version of systemd on this machine (systemctl --version), 0 when it has none. */
  public static int systemdVersion() {
    Optional<String> v = run(List.of("systemctl", "--version"));
    if (v.isEmpty()) {
      return 0;
    }
    String[] words = v.get().strip().split("\\s+");
    try {
      return words.length > 1 ? Integer.parseInt(words[1]) : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Writes the unit; on this machine's root also the user, its home and the service's start. */
  public Path install(SystemdUnit unit, Path unitDir, boolean start) {
    if (live() && !Files.isExecutable(unit.exec())) {
      throw new UsageException(
          "no umbra at "
              + unit.exec()
              + ": install the .deb or the tarball (docs/deploy.md), or give --exec");
    }
    Path file = unitFile(unitDir);
    try {
      Files.createDirectories(file.getParent()); // the unit directory, outside UMBRA_HOME
      Path tmp = file.resolveSibling("." + SystemdUnit.NAME + ".tmp");
      Files.writeString(tmp, unit.render(), StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.println("wrote " + file);
    if (!live()) {
      out.println(
          "not this machine's root: no user, home or service started (install with --root /)");
      return file;
    }
    ensureUser(unit);
    String pair =
        "sudo -u "
            + unit.user()
            + " UMBRA_HOME="
            + unit.home()
            + " umbra daemon pair <code> --url <control-plane-url>";
    if (!systemdRunning()) {
      out.println(
          "systemd is not running on this machine (no "
              + SYSTEMD_RUNNING
              + "): the unit is written but nothing started it.");
      out.println("  pair:  " + pair);
      out.println(
          "  run:   sudo -u " + unit.user() + " UMBRA_HOME=" + unit.home() + " umbra daemon run");
      return file;
    }
    systemctl("daemon-reload");
    if (start) {
      systemctl("enable", "--now", SystemdUnit.NAME);
      out.println("enabled and started " + SystemdUnit.NAME + " (journalctl -u umbra-daemon)");
    }
    out.println("pair this machine (once): " + pair);
    return file;
  }

  /** Stops and removes the unit; keeps the user and its home (the machine's keys). */
  public boolean uninstall(Path unitDir) {
    Path file = unitFile(unitDir);
    if (systemdRunning() && Files.exists(file)) {
      systemctl("disable", "--now", SystemdUnit.NAME);
    }
    boolean removed;
    try {
      removed = Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (systemdRunning()) {
      systemctl("daemon-reload");
    }
    out.println(removed ? "removed " + file : "no unit at " + file);
    return removed;
  }

  private void ensureUser(SystemdUnit unit) {
    if (run(List.of("getent", "passwd", unit.user())).isEmpty()) {
      if (!isRoot()) {
        throw new UsageException("creating the service user needs root: sudo umbra daemon install");
      }
      runOrFail(
          List.of(
              "useradd",
              "--system",
              "--user-group",
              "--no-create-home",
              "--home-dir",
              unit.home().toString(),
              "--shell",
              "/usr/sbin/nologin",
              unit.user()));
      out.println("created system user " + unit.user());
    }
    try {
      if (!Files.isDirectory(unit.home())) {
        KeyFiles.ensurePrivateDirectory(unit.home()); // 0700 from the start, then given away
      }
      Files.setPosixFilePermissions(unit.home(), PosixFilePermissions.fromString("rwx------"));
      UserPrincipalLookupService users =
          unit.home().getFileSystem().getUserPrincipalLookupService();
      Files.setOwner(unit.home(), users.lookupPrincipalByName(unit.user()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static boolean isRoot() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private void systemctl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("systemctl"));
    cmd.addAll(List.of(args));
    runOrFail(cmd);
  }

  private static void runOrFail(List<String> cmd) {
    if (run(cmd).isEmpty()) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed");
    }
  }

  /** Runs a system command; its output when it exits 0, else empty. */
  static Optional<String> run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.empty();
      }
      return p.exitValue() == 0 ? Optional.of(output) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
