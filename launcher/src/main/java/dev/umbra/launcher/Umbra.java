package dev.umbra.launcher;

import dev.umbra.cli.UmbraCli;
import dev.umbra.cli.logging.CliLogging;

/** Entry point of {@code bin/umbra}: the CLI's command tree with {@link DevCommand} ({@code umbra dev} runs the platform). */
public final class Umbra {
  private Umbra() {}

  public static void main(String[] args) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
      // what UmbraCli answers too (a compile-time constant: not even its class is loaded)
      System.out.println(UmbraCli.VERSION);
      System.exit(0);
    }
    boolean longRunning =
        args.length > 0 && (args[0].equals("dev") || (args[0].equals("daemon") && args.length > 1 && args[1].equals("run")));
    if (!longRunning) {
      // one-shot CLI commands print their result, not service logs: WARN and above to stderr,
      // without logback (whose start-up is most of a short command's; docs/cli.md, "Start-up")
      if (System.getenv("UMBRA_LOG_LEVEL") == null) {
        System.setProperty("UMBRA_LOG_LEVEL", "WARN");
      }
      CliLogging.install();
    }
    int code = Cli.run(args);
    System.exit(code);
  }
}
