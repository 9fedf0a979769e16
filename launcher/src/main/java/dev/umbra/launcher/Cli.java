package dev.umbra.launcher;

import dev.umbra.cli.UmbraCli;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs the umbra CLI with the launcher's own commands added to its tree: {@code dev} (the platform)
 * and {@code daemon} (the machine side, from clients/daemon).
 */
public final class Cli {
  private Cli() {}

  /** The commands bin/umbra adds to the CLI's tree, for {@code UmbraCli.execute}. */
  public static List<Object> commands() {
    return List.of(DaemonCommand.class, new DevCommand());
  }

  static Path home() {
    String env = System.getenv("UMBRA_HOME");
    return env == null || env.isBlank()
        ? Path.of(System.getProperty("user.home"), ".umbra")
        : Path.of(env);
  }

  static int run(String[] args) {
    return UmbraCli.execute(home(), System.out, System.err, System.getenv(), commands(), args);
  }
}
