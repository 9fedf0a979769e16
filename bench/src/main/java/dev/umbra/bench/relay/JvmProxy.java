package dev.umbra.bench.relay;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-Xms1g"));
    if (!System.getProperty("umbra.bench.relayJvmArgs", "").matches(".*-XX:\\+Use\\w+GC.*")) {
      cmd.add("-XX:+UseG1GC");
    }
    // the relays' extra flags and JFR too, so both sides of the comparison are profiled alike
    cmd.addAll(RelayProcess.profilingArgs());
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            VertxWsProxy.class.getName(),
            String.valueOf(port),
            String.valueOf(backendPort),
            System.getProperty("umbra.bench.proxyMode", "ws")));
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
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

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    RelayProcess.dumpJfr(process, "proxy");
    process.destroy();
  }
}
