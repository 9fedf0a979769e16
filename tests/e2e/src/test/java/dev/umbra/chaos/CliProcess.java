package dev.umbra.chaos;

import dev.umbra.kit.testing.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A long-running `umbra` command ({@code forward}, {@code tty}) as its own process, as a user runs
 * it: the launcher's entry point on this test's class path, {@code UMBRA_HOME} the given CLI home,
 * stdin a pipe the test types into, stdout and stderr collected as text.
 */
final class CliProcess implements AutoCloseable {
  private final Process process;
  private final StringBuilder out = new StringBuilder();
  private final OutputStream stdin;

  private final Path log;

  private CliProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
    this.stdin = process.getOutputStream();
    Thread.ofPlatform().daemon().name("cli-out").start(() -> collect(process.getInputStream()));
  }

  static CliProcess start(Path home, Path log, String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx192m",
                "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                "dev.umbra.launcher.Umbra"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("UMBRA_"));
    env.put("UMBRA_HOME", home.toString());
    env.put("UMBRA_AOT", "off");
    env.put("USER", "alice");
    env.put("TERM", "dumb");
    env.put("UMBRA_LOG_LEVEL", "INFO"); // its reconnects, in its output
    return new CliProcess(pb.start(), log);
  }

  private void collect(InputStream in) {
    byte[] buf = new byte[8192];
    int n;
    try {
      while ((n = in.read(buf)) >= 0) {
        synchronized (out) {
          out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
      }
    } catch (IOException e) {
      // the process ended
    }
  }

  String output() {
    synchronized (out) {
      return out.toString();
    }
  }

  boolean alive() {
    return process.isAlive();
  }

  /** Types {@code text} into the command's stdin (nothing when it has ended: see its output). */
  void type(String text) {
    try {
      stdin.write(text.getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    } catch (IOException e) {
      // the command ended; the caller's await fails with its output
    }
  }

  /** Waits until the output contains {@code needle}; fails with the output when it gave up. */
  void await(String what, String needle, Duration within) {
    if (!Eventually.holdsWithin(within, () -> output().contains(needle))) {
      // the output now, not when the wait began: what the command said last is the clue
      throw new AssertionError(
          "not within "
              + within.toMillis()
              + " ms: "
              + what
              + " ('"
              + needle
              + "' in the output of the command; its output: "
              + tail()
              + ")");
    }
  }

  private String tail() {
    String o = output();
    return o.length() > 2000 ? "…" + o.substring(o.length() - 2000) : o;
  }

  @Override
  public void close() throws Exception {
    Files.writeString(log, output()); // outside UMBRA_HOME: the test's target directory
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
