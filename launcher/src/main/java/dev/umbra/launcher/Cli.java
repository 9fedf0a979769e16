package dev.umbra.launcher;

import dev.umbra.cli.UmbraCli;
import java.nio.file.Path;
import java.util.List;

/** Runs the umbra CLI with the launcher's own {@code dev} command added to its tree. */
final class Cli {
  private Cli() {}

  static Path home() {
    String env = System.getenv("UMBRA_HOME");
    return env == null || env.isBlank() ? Path.of(System.getProperty("user.home"), ".umbra") : Path.of(env);
  }

  static int run(String[] args) {
    return UmbraCli.execute(home(), System.out, System.err, System.getenv(), List.of(new DevCommand()), args);
  }
}
