package dev.umbra.launcher;

import dev.umbra.kit.config.Env;
import java.util.Arrays;

/** Entry point of {@code bin/umbra}: {@code dev} runs the platform; anything else is the CLI. */
public final class Umbra {
  private Umbra() {}

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("dev")) {
      if (args.length > 1) {
        System.err.println("umbra dev takes no arguments; configure it with UMBRA_* variables (see README)");
        System.exit(2);
      }
      System.exit(new DevMode(Env.system(), System.out).run());
    }
    System.exit(Cli.run(Arrays.copyOf(args, args.length)));
  }
}
