package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.webtty.Main;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A webtty-engine instance in its own JVM, the one the engine failover tests kill with SIGKILL
 * ({@link Process#destroyForcibly()}): the test's database and Redis prefix, a port chosen here,
 * {@code env} on top; started and healthy, its output in {@code log}.
 */
public final class ChildEngine {
  private ChildEngine() {}

  /** Starts the engine on {@code port} and waits (90 s at most) until its /healthz answers 200. */
  public static Process start(
      Path log, TestPostgres pg, String prefix, int port, Path home, Map<String, String> env)
      throws IOException {
    Files.createDirectories(log.getParent()); // outside UMBRA_HOME: the test's target/
    Map<String, String> all = new HashMap<>(env);
    all.put("UMBRA_WEBTTY_ENGINE_PORT", Integer.toString(port));
    all.put("UMBRA_HOME", home.toString());
    Process p = TestServices.childJvm(Main.class, log, pg, prefix, all).start();
    Eventually.await(
        "engine on port " + port + " healthy (see " + log + ")",
        Duration.ofSeconds(90),
        () -> {
          assertThat(p.isAlive()).as("the engine exited; see " + log).isTrue();
          return healthy(port);
        });
    return p;
  }

  /** A port for the child engine, told it before it starts. */
  public static int freePort() {
    return TestServices.portForAChildProcess();
  }

  /** True when a service on {@code port} of 127.0.0.1 answers its /healthz with 200. */
  public static boolean healthy(int port) {
    try {
      HttpURLConnection c =
          (HttpURLConnection)
              URI.create("http://127.0.0.1:" + port + "/healthz").toURL().openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(2000);
      return c.getResponseCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }
}
