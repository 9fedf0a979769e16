package dev.umbra.bench.relay;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@link VertxWsProxy} in its own JVM (same heap and collector as the relays). */
final class JvmProxy implements AutoCloseable {
  final int port;
  private final Process process;

  private JvmProxy(int port, Process process) {
    this.port = port;
    this.process = process;
  }

  static JvmProxy start(int backendPort, Path log) throws Exception {
    int port = RelayProcess.freePort();
    Process p =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx1g",
                    "-Xms1g",
                    "-XX:+UseG1GC",
                    "-cp",
                    System.getProperty("java.class.path"),
                    VertxWsProxy.class.getName(),
                    String.valueOf(port),
                    String.valueOf(backendPort),
                    System.getProperty("umbra.bench.proxyMode", "ws")))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains("ready")) {
        return new JvmProxy(port, p);
      }
      if (!p.isAlive()) {
        break;
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new IllegalStateException(
        "the Vert.x proxy did not start: " + (Files.exists(log) ? Files.readString(log) : ""));
  }

  @Override
  public void close() {
    process.destroy();
  }
}
