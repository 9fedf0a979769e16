package dev.umbra.chaos;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.RedisProcesses;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A redis-server of the chaos suite's own on a free port (append-only file on, as a Redis holding
 * durable streams runs in production), so it can be restarted and paused without touching the
 * machine's.
 */
final class OwnRedis implements AutoCloseable {
  private final Path dir;
  private final int port;
  private Process server;

  private OwnRedis(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  static OwnRedis start() throws Exception {
    OwnRedis r =
        new OwnRedis(
            Files.createTempDirectory("umbra-chaos-redis"), // outside UMBRA_HOME
            Ports.free());
    r.startServer();
    return r;
  }

  URI url() {
    return URI.create("redis://127.0.0.1:" + port);
  }

  long pid() {
    return server.pid();
  }

  void startServer() throws IOException {
    server =
        new ProcessBuilder(
                "redis-server",
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()))
            .start();
    Eventually.await("own Redis answers PING", Duration.ofSeconds(20), this::answers);
  }

  boolean answers() {
    try {
      return "PONG".equals(RedisProcesses.command(port, "PING"));
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** SIGTERM (Redis writes its append-only file and exits), waits for the exit. */
  void stopServer() throws InterruptedException {
    server.destroy();
    if (!server.waitFor(20, TimeUnit.SECONDS)) {
      server.destroyForcibly().waitFor();
    }
  }

  /**
   * SIGKILL: a crash, not a shutdown; what survives is what the append-only file holds (written
   * before each reply, fsynced every second).
   */
  void crash() throws InterruptedException {
    server.destroyForcibly();
    if (!server.waitFor(20, TimeUnit.SECONDS)) {
      throw new IllegalStateException("redis-server survived SIGKILL");
    }
  }

  void signal(String sig) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(server.pid())).start();
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("kill -" + sig + " " + server.pid() + " failed");
    }
  }

  @Override
  public void close() throws Exception {
    if (server != null) {
      signal("CONT");
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
  }
}
