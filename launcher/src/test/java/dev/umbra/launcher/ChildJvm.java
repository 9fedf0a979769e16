package dev.umbra.launcher;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestServices;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A real child JVM running one of our mains on the test classpath, with its output captured. */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Thread pump;

  private ChildJvm(Process process) {
    this.process = process;
    pump =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // process ended
              }
            },
            "child-output");
    pump.setDaemon(true);
    pump.start();
  }

  public static ChildJvm start(String mainClass, Map<String, String> env, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.startsWith("UMBRA_"));
    pb.environment().putAll(env);
    return new ChildJvm(pb.start());
  }

  /** A free port for each of the five services, by the service's variable infix (RELAY, ...). */
  public static java.util.Map<String, Integer> freeServicePorts() throws IOException {
    java.util.Map<String, Integer> ports = new java.util.LinkedHashMap<>();
    for (String s : new String[] {"CONTROL_PLANE", "RELAY", "PAIRING", "AUDIT", "WEBTTY_ENGINE"}) {
      ports.put(s, freePort());
    }
    return ports;
  }

  /** The environment of `umbra dev` with {@code home}, a test PostgreSQL and {@code ports}. */
  public static java.util.Map<String, String> devEnv(
      java.nio.file.Path home, java.net.URI pgUrl, java.util.Map<String, Integer> ports) {
    java.util.Map<String, String> env = new java.util.HashMap<>();
    env.put("UMBRA_HOME", home.toString());
    env.put("UMBRA_PG_URL", pgUrl.toString());
    ports.forEach((s, p) -> env.put("UMBRA_" + s + "_PORT", Integer.toString(p)));
    return env;
  }

  /**
   * A port for a child JVM, told it before it starts ({@link TestServices#portForAChildProcess}).
   */
  public static int freePort() {
    return TestServices.portForAChildProcess();
  }

  /** Waits until a line matches; fails with everything printed so far when it doesn't. */
  public String awaitLine(Predicate<String> match, long seconds) throws InterruptedException {
    Optional<String> line;
    try {
      line =
          Eventually.until(
              "a matching line",
              Duration.ofSeconds(seconds),
              () -> lines.stream().filter(match).findFirst(),
              l -> l.isPresent() || !process.isAlive());
    } catch (AssertionError notWithin) {
      throw new AssertionError(
          "expected line did not appear within " + seconds + " s; output:\n" + output(), notWithin);
    }
    if (line.isEmpty()) {
      pump.join(); // the process ended: the pump ends with its output, so every line is in now
      line = lines.stream().filter(match).findFirst();
    }
    return line.orElseThrow(
        () ->
            new AssertionError(
                "process exited with "
                    + process.exitValue()
                    + " before the expected line; output:\n"
                    + output()));
  }

  /** Sends SIGTERM and waits; returns the exit code, or -1 when it did not exit in time. */
  public int terminate(long seconds) throws InterruptedException, IOException {
    // Process.destroy() would also close our end of its output, losing its last lines
    new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).inheritIO().start().waitFor();
    return waitForExit(seconds);
  }

  /**
   * Sends SIGINT, as Ctrl-C does, and waits; returns the exit code, or -1 when it did not exit in
   * time.
   */
  public int interrupt(long seconds) throws InterruptedException, IOException {
    new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start().waitFor();
    return waitForExit(seconds);
  }

  public int waitForExit(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      return -1;
    }
    pump.join(2000); // the rest of its output
    return process.exitValue();
  }

  public String output() {
    return String.join("\n", lines);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
