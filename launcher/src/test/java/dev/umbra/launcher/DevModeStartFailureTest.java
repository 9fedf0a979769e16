package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service of {@code umbra dev} that cannot bind its port says which port, which variable moves it
 * and what to do; it said "relay: bind(..) failed with error(-98): Address already in use".
 */
class DevModeStartFailureTest {
  private static final ServiceConfig RELAY =
      ServiceConfig.load(
          ServiceName.RELAY, new Env(Map.of("UMBRA_RELAY_PORT", "18081", "UMBRA_HOME", "/tmp/x")));

  @Test
  void aPortInUseNamesThePortItsVariableAndWhatToDo() {
    Exception netty =
        new IllegalStateException(
            new BindException("bind(..) failed with error(-98): Address already in use"));
    assertThat(DevMode.startFailure(RELAY, netty))
        .isEqualTo(
            "relay: port 18081 on 0.0.0.0 is already in use (another `umbra dev`, or another"
                + " program): stop it, or set UMBRA_RELAY_PORT to a free port"
                + " (docs/configuration.md)");
  }

  @Test
  void aConfigurationErrorIsWrittenToTheErrorStreamItWasGivenWithExitCode2(@TempDir Path home) {
    // no embedded PostgreSQL (UMBRA_PG_URL is set) and nothing started: the relay's port is wrong
    Run run = run(home, "UMBRA_RELAY_PORT", "not-a-port");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).startsWith("umbra dev: configuration error: UMBRA_RELAY_PORT");
    assertThat(run.out()).doesNotContain("configuration error");
  }

  @Test
  void twoServicesOnOnePortAreAConfigurationErrorBeforeAnythingStarts(@TempDir Path home) {
    // in one JVM both would bind it (Vert.x shares the listener) and split each other's requests
    Run run = run(home, "UMBRA_CONTROL_PLANE_PORT", "41331", "UMBRA_WEBTTY_ENGINE_PORT", "41331");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err())
        .startsWith("umbra dev: configuration error: UMBRA_")
        .contains("41331 is also UMBRA_")
        .contains("UMBRA_CONTROL_PLANE_PORT")
        .contains("UMBRA_WEBTTY_ENGINE_PORT")
        .contains("set one of them to a free port");
    assertThat(run.out()).doesNotContain("ready");
  }

  /** What a {@code umbra dev} run printed and its exit code. */
  private record Run(int code, String out, String err) {}

  /**
   * Runs {@code umbra dev} with {@code home}, a PostgreSQL URL (so no embedded server) and {@code
   * variables} (name, value, name, value ...).
   */
  private static Run run(Path home, String... variables) {
    Map<String, String> vars = new java.util.HashMap<>();
    vars.put("UMBRA_HOME", home.toString());
    vars.put("UMBRA_PG_URL", "postgresql://postgres@127.0.0.1:5432/umbra");
    for (int i = 0; i < variables.length; i += 2) {
      vars.put(variables[i], variables[i + 1]);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        new DevMode(
                new Env(vars),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                false)
            .run();
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void anyOtherFailureKeepsItsOwnMessage() {
    assertThat(DevMode.startFailure(RELAY, new IllegalStateException("boom")))
        .isEqualTo("relay: boom");
  }
}
