package dev.umbra.cli;

import dev.umbra.cli.config.Credentials;
import dev.umbra.client.http.JsonHttp;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * What every command gets: UMBRA_HOME, the output streams, the environment and one HTTP client. A
 * command class receives it through a constructor taking a {@code CliContext} (see {@link
 * UmbraCli}'s factory).
 */
public record CliContext(
    Path home,
    PrintStream out,
    PrintStream err,
    Map<String, String> env,
    JsonHttp http,
    Clock clock) {

  public Credentials credentials() {
    return new Credentials(home);
  }
}
