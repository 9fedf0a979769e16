package dev.umbra.launcher;

import dev.umbra.cli.UmbraCli;
import dev.umbra.cli.logging.CliLogging;

/**
 * Entry point of {@code bin/umbra}: the CLI's command tree with {@link DevCommand} ({@code umbra
 * dev} runs the platform).
 */
public final class Umbra {
  private Umbra() {}

  public static void main(String[] args) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
      // what UmbraCli answers too (a compile-time constant: not even its class is loaded), with the
      // build the distribution's bin/umbra names (docs/deploy.md): its commit and platform
      String build = System.getProperty("umbra.build");
      System.out.println(
          build == null || build.isBlank()
              ? UmbraCli.VERSION
              : UmbraCli.VERSION + " (build " + build.strip() + ")");
      exit(0, false);
    }
    boolean longRunning =
        args.length > 0
            && (args[0].equals("dev")
                || (args[0].equals("daemon") && args.length > 1 && args[1].equals("run")));
    if (!longRunning) {
      // one-shot CLI commands print their result, not service logs: WARN and above to stderr,
      // without logback (whose start-up is most of a short command's; docs/cli.md, "Start-up")
      if (System.getenv("UMBRA_LOG_LEVEL") == null) {
        System.setProperty("UMBRA_LOG_LEVEL", "WARN");
      }
      CliLogging.install();
    }
    int code = Cli.run(args);
    exit(code, longRunning || (args.length > 0 && args[0].equals("tty")));
  }

  /**
   * Ends the JVM with {@code code}. {@code System.exit} (JDK 21+) first asks the platform logger
   * whether to log the exit, and finding that logger scans every jar of the class path for a
   * LoggerFinder — tens of milliseconds, a sixth of {@code umbra --version}. So one-shot commands
   * halt after flushing their output: they register no shutdown hooks. Commands whose libraries do
   * ({@code dev}: the embedded PostgreSQL; {@code tty}: JLine restores the terminal) pass {@code
   * hooks} and exit normally; a new command that needs a shutdown hook must be added there.
   */
  static void exit(int code, boolean hooks) {
    if (hooks) {
      System.exit(code);
    }
    System.out.flush();
    System.err.flush();
    Runtime.getRuntime().halt(code);
  }
}
