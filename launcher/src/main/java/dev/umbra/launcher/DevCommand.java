package dev.umbra.launcher;

import dev.umbra.kit.config.Env;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code umbra dev}, the launcher's one command of its own: a node of the CLI's command tree (so
 * help, suggestions and usage errors know it) that runs {@link DevMode}. It takes no arguments.
 */
@Command(
    name = "dev",
    description = {
      "Run the whole platform on this machine (all five services, embedded PostgreSQL, a paired local daemon); see README.",
      "Takes no arguments: configure it with UMBRA_* variables (docs/configuration.md)."
    })
final class DevCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    return new DevMode(Env.system(), System.out).run();
  }
}
