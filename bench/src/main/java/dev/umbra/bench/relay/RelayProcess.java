package dev.umbra.bench.relay;

import dev.umbra.bench.BenchRuns;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A relay instance in its own JVM (as in production), started from this JVM's class path. */
final class RelayProcess implements AutoCloseable {
  /** umbra.bench.relayJfr=DIR: profile each relay with JFR and dump it there before stopping it. */
  private static final String JFR_DIR = System.getProperty("umbra.bench.relayJfr");

  final int port;
  final Process process;

  private RelayProcess(int port, Process process) {
    this.port = port;
    this.process = process;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static RelayProcess start(String heap, Map<String, String> env, Path log) throws Exception {
    int port = freePort();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-Xms" + heap));
    String extra = System.getProperty("umbra.bench.relayJvmArgs", "").trim();
    if (!extra.matches(".*-XX:\\+Use\\w+GC.*")) {
      cmd.add(
          "-XX:+UseG1GC"); // the JVM's default collector, named so the runs say what they measured
    }
    cmd.addAll(profilingArgs());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.umbra.relay.Main"));
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    pb.environment().put("UMBRA_RELAY_PORT", String.valueOf(port));
    pb.environment().put("UMBRA_BIND_HOST", "127.0.0.1");
    pb.environment().put("UMBRA_LOG_LEVEL", "WARN");
    Process p = pb.start();
    RelayProcess r = new RelayProcess(port, p);
    try {
      // a cold JVM on a shared 2-vCPU machine at load 30 takes over a minute to start
      BenchRuns.awaitHealthy(p, "relay", port, log, java.time.Duration.ofSeconds(240));
    } catch (Exception e) {
      r.close();
      throw e;
    }
    return r;
  }

  /** The extra flags of umbra.bench.relayJvmArgs and, with umbra.bench.relayJfr, JFR. */
  static List<String> profilingArgs() {
    List<String> args = new ArrayList<>();
    String extra = System.getProperty("umbra.bench.relayJvmArgs", "").trim();
    if (!extra.isEmpty()) {
      args.addAll(List.of(extra.split("\\s+")));
    }
    if (JFR_DIR != null) {
      args.add("-XX:StartFlightRecording=name=bench,settings=profile");
    }
    return args;
  }

  /** Dumps the JFR recording of {@code p} (if profiling) before it is stopped. */
  static void dumpJfr(Process p, String what) {
    if (JFR_DIR != null) {
      // the process halts on SIGTERM, so JFR's own dump-on-exit would never run
      BenchRuns.jcmd(
          p,
          "JFR.dump",
          "name=bench",
          "filename=" + Path.of(JFR_DIR, what + "-" + p.pid() + ".jfr"));
    }
  }

  URI ws() {
    return URI.create("ws://127.0.0.1:" + port + "/v1/relay");
  }

  String scrape() throws IOException {
    try (var in = URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Sum of the samples of a metric whose line starts with {@code prefix}. */
  double metric(String prefix) throws IOException {
    double sum = 0;
    for (String line : scrape().split("\n")) {
      if (line.startsWith(prefix)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  void gc() {
    jcmd("GC.run");
  }

  private void jcmd(String... command) {
    BenchRuns.jcmd(process, command);
  }

  @Override
  public void close() {
    dumpJfr(process, "relay");
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
