package dev.umbra.launcher;

/** Entry point of {@code bin/umbra}: the CLI's command tree with {@link DevCommand} ({@code umbra dev} runs the platform). */
public final class Umbra {
  private Umbra() {}

  public static void main(String[] args) {
    boolean longRunning =
        args.length > 0 && (args[0].equals("dev") || (args[0].equals("daemon") && args.length > 1 && args[1].equals("run")));
    if (!longRunning && System.getenv("UMBRA_LOG_LEVEL") == null) {
      // one-shot CLI commands print their result, not service logs (logback reads this at start)
      System.setProperty("UMBRA_LOG_LEVEL", "WARN");
    }
    int code = Cli.run(args);
    System.exit(code);
  }
}
