package dev.umbra.bench.messaging;

import dev.umbra.bench.BenchRuns;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of the benchmark (a control-plane instance or one end), started from this JVM's class path
 * with its own heap. A service's output goes to its log; an end's stdout lines come back to the
 * coordinator ({@link #await}) and its stdin takes commands ({@link #send}).
 */
final class JvmProcess implements AutoCloseable {
  /** umbra.bench.jfr=DIR: a JFR recording of every process, dumped there before it stops. */
  private static final String JFR_DIR = System.getProperty("umbra.bench.jfr");

  /**
   * umbra.bench.jvmArgs="...": extra flags for every process of the run, {@code {name}} replaced by
   * the process's name (e.g. {@code -Xlog:jit+compilation=debug:file=/tmp/{name}-jit.log}).
   */
  private static final String EXTRA_ARGS = System.getProperty("umbra.bench.jvmArgs", "").trim();

  final String name;
  final Process process;
  private final Path log;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final PrintWriter stdin;

  private JvmProcess(String name, Process process, Path log, boolean piped) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.stdin =
        new PrintWriter(
            new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8),
            true);
    if (piped) {
      Thread.ofPlatform()
          .daemon()
          .name(name + "-out")
          .start(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String l = r.readLine(); l != null; l = r.readLine()) {
                    lines.add(l);
                  }
                } catch (IOException e) {
                  lines.add("closed " + e);
                }
              });
    }
  }

  /**
   * Starts {@code mainClass}; {@code piped}: stdout comes back as lines (stderr to the log), else
   * both go to the log.
   */
  static JvmProcess start(
      String name,
      String mainClass,
      String heap,
      Map<String, String> env,
      List<String> args,
      Path log,
      boolean piped)
      throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap,
                "-Xms" + heap,
                "-XX:+UseG1GC"));
    if (JFR_DIR != null) {
      // dumped at exit by the ends (they exit on their own); jcmd dumps the services (close)
      cmd.add(
          "-XX:StartFlightRecording=name=bench,settings=profile,dumponexit=true,filename="
              + Path.of(JFR_DIR, name + ".jfr"));
    }
    if (!EXTRA_ARGS.isEmpty()) {
      for (String a : EXTRA_ARGS.split("\\s+")) {
        cmd.add(a.replace("{name}", name));
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (piped) {
      pb.redirectError(log.toFile());
    } else {
      pb.redirectErrorStream(true).redirectOutput(log.toFile());
    }
    pb.environment().putAll(env);
    return new JvmProcess(name, pb.start(), log, piped);
  }

  /** Polls {@code /healthz} until it answers 200 (or the process dies). */
  void awaitHealthy(int port) throws Exception {
    BenchRuns.awaitHealthy(process, name, port, log, java.time.Duration.ofSeconds(120));
  }

  void send(String command) {
    stdin.println(command);
  }

  /** The next stdout line starting with {@code prefix}; others are echoed; fails after timeout. */
  String await(String prefix, long seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      String l = lines.poll(1, TimeUnit.SECONDS);
      if (l == null) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException(
              name
                  + (process.isAlive()
                      ? ": no '" + prefix + "' within " + seconds + " s"
                      : " exited")
                  + "; log "
                  + log);
        }
        continue;
      }
      if (l.startsWith(prefix)) {
        return l;
      }
      System.out.println("  [" + name + "] " + l);
    }
  }

  @Override
  public void close() {
    if (JFR_DIR != null && process.isAlive()) {
      BenchRuns.jcmd(
          process, "JFR.dump", "name=bench", "filename=" + Path.of(JFR_DIR, name + ".jfr"));
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
