package dev.umbra.launcher;

import dev.umbra.kit.config.Env;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code umbra dev}, the launcher's one command of its own: a node of the CLI's command tree (so
 * help, suggestions and usage errors know it) that runs {@link DevMode}. Its one option, {@code
 * --tls}, serves every service over TLS 1.3 with a local CA ({@link DevTls}).
 */
@Command(
    name = "dev",
    description = {
      "Run the whole platform on this machine (all five services, embedded PostgreSQL, a paired local daemon); see README.",
      "Configure it with UMBRA_* variables (docs/configuration.md)."
    })
final class DevCommand implements Callable<Integer> {
  @Option(
      names = "--tls",
      description =
          "Serve every service over TLS 1.3 (https/wss) with a local CA kept in UMBRA_HOME/dev/tls;"
              + " services require client certificates from each other.")
  boolean tls;

  @Override
  public Integer call() {
    return new DevMode(Env.system(), System.out, System.err, tls).run();
  }
}
