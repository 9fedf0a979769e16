package dev.umbra.cli.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.UmbraCli;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What one in-process `umbra` invocation printed and returned: the one way the CLI's, the
 * launcher's and tests/e2e's tests run the command tree (through {@link UmbraCli#execute}, as
 * bin/umbra does, with the streams captured).
 */
public record UmbraRun(int code, String out, String err) {
  /** Standard output as a JSON object (for {@code --json}). */
  public JsonObject json() {
    return new JsonObject(out);
  }

  /** Standard output as a JSON array (for {@code --json} lists). */
  public JsonArray array() {
    return new JsonArray(out);
  }

  /** This run, asserted to have exited 0 (the failure names the arguments and the output). */
  public UmbraRun assertOk(String... args) {
    assertThat(code).as(String.join(" ", args) + ": " + err + out).isZero();
    return this;
  }

  /**
   * Runs the command tree with {@code home} as UMBRA_HOME and {@code env} as the environment;
   * {@code extraCommands} are added at the top level (the launcher's {@code Cli.commands()}).
   */
  public static UmbraRun of(
      Path home, Map<String, String> env, List<Object> extraCommands, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        UmbraCli.execute(
            home,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env,
            extraCommands,
            args);
    return new UmbraRun(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
