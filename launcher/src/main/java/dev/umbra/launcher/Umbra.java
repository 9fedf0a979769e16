package dev.umbra.launcher;

import dev.umbra.kit.config.Env;
import java.util.Arrays;

/** Entry point of {@code bin/umbra}: {@code dev} runs the platform; anything else is the CLI. */
public final class Umbra {
  private Umbra() {}

  public static void main(String[] args) {
    boolean longRunning =
        args.length > 0 && (args[0].equals("dev") || (args[0].equals("daemon") && args.length > 1 && args[1].equals("run")));
    if (!longRunning && System.getenv("UMBRA_LOG_LEVEL") == null) {
      // one-shot CLI commands print their result, not service logs (logback reads this at start)
      System.setProperty("UMBRA_LOG_LEVEL", "WARN");
    }
    if (args.length > 0 && args[0].equals("dev")) {
      if (args.length > 1) {
        System.err.println("umbra dev takes no arguments; configure it with UMBRA_* variables (see README)");
        System.exit(2);
      }
      System.exit(new DevMode(Env.system(), System.out).run());
    }
    int code = Cli.run(Arrays.copyOf(args, args.length));
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.println("  dev        Run the whole platform on this machine (all five services, embedded");
      System.out.println("               PostgreSQL, a paired local daemon); see README.");
    }
    System.exit(code);
  }
}
