package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.PostgresPerClass;
import dev.umbra.kit.testing.TestRedis;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each service as its own process: boots against real PG and Redis, stops on SIGTERM with 0. */
class ServiceProcessTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();
  @TempDir Path home;

  private Map<String, String> env(String portVar, int port) {
    Map<String, String> env = new HashMap<>();
    env.put("UMBRA_PG_URL", pg.url().toString());
    env.put("UMBRA_REDIS_URL", TestRedis.url().toString());
    env.put("UMBRA_BUS_PREFIX", TestRedis.randomPrefix());
    env.put("UMBRA_HOME", home.toString());
    env.put("UMBRA_BIND_HOST", "127.0.0.1");
    env.put(portVar, Integer.toString(port));
    return env;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "dev.umbra.controlplane.Main, UMBRA_CONTROL_PLANE_PORT",
    "dev.umbra.relay.Main, UMBRA_RELAY_PORT",
    "dev.umbra.pairing.Main, UMBRA_PAIRING_PORT",
    "dev.umbra.audit.Main, UMBRA_AUDIT_PORT",
    "dev.umbra.webtty.Main, UMBRA_WEBTTY_ENGINE_PORT"
  })
  void bootsAnswersHealthAndExitsZeroOnSigterm(String main, String portVar) throws Exception {
    int port = ChildJvm.freePort();
    try (ChildJvm child = ChildJvm.start(main, env(portVar, port))) {
      child.awaitLine(l -> l.contains("listening on http://127.0.0.1:" + port), 60);
      HttpResponse<String> health =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
      long t0 = System.nanoTime();
      assertThat(child.terminate(10)).as(child.output()).isZero();
      assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10);
      assertThat(child.output()).contains("stopped");
    }
  }

  @Test
  void stopsWithOneLineNamingTheVariableWhenConfigIsBad() throws Exception {
    Map<String, String> env = env("UMBRA_RELAY_PORT", 1);
    env.put("UMBRA_RELAY_PORT", "not-a-port");
    try (ChildJvm child = ChildJvm.start("dev.umbra.relay.Main", env)) {
      assertThat(child.waitForExit(30)).isEqualTo(2);
      assertThat(child.output().strip().lines().toList())
          .containsExactly(
              "umbra-relay: configuration error: UMBRA_RELAY_PORT: expected a port number, got 'not-a-port'");
    }
  }

  @Test
  void failsToStartWithAClearLineWhenPostgresIsUnreachable() throws Exception {
    Map<String, String> env = env("UMBRA_AUDIT_PORT", ChildJvm.freePort());
    env.put("UMBRA_PG_URL", "postgresql://postgres@127.0.0.1:1/umbra");
    try (ChildJvm child = ChildJvm.start("dev.umbra.audit.Main", env)) {
      assertThat(child.waitForExit(30)).isEqualTo(1);
      assertThat(child.output())
          .contains("umbra-audit: failed to start:")
          .contains("set UMBRA_PG_URL");
    }
  }
}
