package dev.umbra.launcher.service;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.Output;
import dev.umbra.cli.UsageException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code umbra daemon install|uninstall|status} (docs/deploy.md, "The daemon as a service"): the
 * daemon as a systemd service, and what the running daemon last reported.
 */
public final class DaemonServiceCommands {
  private DaemonServiceCommands() {}

  static final String DEFAULT_USER = "umbra";
  static final String DEFAULT_HOME = "/var/lib/umbra";
  static final String SYSTEM_UNITS = "/etc/systemd/system";

  /** The umbra command this JVM was started by (the distribution's bin/umbra says), if known. */
  static Path defaultExec() {
    String self = System.getProperty("umbra.exec");
    return Path.of(self == null || self.isBlank() ? "/usr/bin/umbra" : self);
  }

  @Command(
      name = "install",
      description =
          "Install the daemon as a systemd service: its own user and UMBRA_HOME, restarted on"
              + " failure, sandboxed, logging to the journal.")
  public static final class Install implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--user", description = "The service's user (default: umbra, created).")
    String user = DEFAULT_USER;

    @Option(names = "--home", description = "Its UMBRA_HOME, 0700 (default: /var/lib/umbra).")
    Path home = Path.of(DEFAULT_HOME);

    @Option(names = "--exec", description = "The umbra command the unit runs (default: this one).")
    Path exec;

    @Option(
        names = "--root",
        description = "Write under this directory instead of / (tests, packages).")
    Path root = Path.of("/");

    @Option(
        names = "--unit-dir",
        description = "Where the unit goes (default: /etc/systemd/system).")
    Path unitDir = Path.of(SYSTEM_UNITS);

    @Option(names = "--no-start", description = "Write and enable nothing beyond the files.")
    boolean noStart;

    public Install(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      SystemdUnit unit;
      try {
        unit =
            new SystemdUnit(
                user, home, exec != null ? exec : defaultExec(), ServiceInstaller.systemdVersion());
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      new ServiceInstaller(root, ctx.out()).install(unit, unitDir, !noStart);
      return 0;
    }
  }

  @Command(
      name = "uninstall",
      description = "Stop and remove the daemon's systemd service (keeps its user and home).")
  public static final class Uninstall implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--root", description = "Remove under this directory instead of /.")
    Path root = Path.of("/");

    @Option(names = "--unit-dir", description = "Where the unit is (default: /etc/systemd/system).")
    Path unitDir = Path.of(SYSTEM_UNITS);

    public Uninstall(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      new ServiceInstaller(root, ctx.out()).uninstall(unitDir);
      ctx.out()
          .println(
              "the service's user and home (its keys) are kept: userdel and rm them to forget this machine");
      return 0;
    }
  }

  @Command(
      name = "status",
      description =
          "Show this machine's bindings and what the running daemon last reported: relay and"
              + " engine connections, last heartbeat, trust pin version.")
  public static final class Status implements Callable<Integer> {
    private final CliContext ctx;

    @Option(
        names = "--home",
        description = "The daemon's UMBRA_HOME (default: yours; the service's is /var/lib/umbra).")
    Path home;

    @Mixin Output output;

    public Status(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Path h = home != null ? home : ctx.home();
      DaemonStatusReport report = DaemonStatusReport.of(h, ctx.clock());
      output.print(ctx.out(), report.toJson(), report.text());
      return report.running() ? 0 : 3;
    }
  }
}
