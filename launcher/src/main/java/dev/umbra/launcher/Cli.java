package dev.umbra.launcher;

import dev.umbra.cli.UmbraCli;
import java.nio.file.Path;

/** Hands every command but {@code dev} to the umbra CLI. */
final class Cli {
  private Cli() {}

  static Path home() {
    String env = System.getenv("UMBRA_HOME");
    return env == null || env.isBlank() ? Path.of(System.getProperty("user.home"), ".umbra") : Path.of(env);
  }

  static int run(String[] args) {
    return UmbraCli.execute(home(), System.out, System.err, args);
  }
}
