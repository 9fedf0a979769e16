package dev.umbra.dist;

import dev.umbra.kit.testing.Eventually;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A long-running command of the distribution's tests (a platform, a daemon), its output in a file.
 * {@link #close()} ends it and everything it started: the tests leave no process behind.
 */
final class Background implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Path log;

  private Background(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code command} in {@code dir} with exactly {@code env} plus a PATH without a JDK, as
   * {@link Proc} does.
   */
  static Background start(String name, Map<String, String> env, Path dir, List<String> command)
      throws IOException {
    Path log = Files.createTempFile("umbra-dist-" + name, ".log");
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
    pb.environment().clear();
    pb.environment().put("PATH", Proc.NO_JDK_PATH);
    pb.environment().putAll(env);
    pb.redirectOutput(log.toFile());
    return new Background(name, pb.start(), log);
  }

  String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(output unreadable: " + e.getMessage() + ")";
    }
  }

  /** The first line of its output that {@code matches}, waiting up to {@code within} for it. */
  String awaitLine(String what, Duration within, Predicate<String> matches) {
    Optional<String> line =
        Eventually.until(
            name + ": " + what,
            within,
            () -> completeLines().filter(matches).findFirst(),
            seen -> seen.isPresent() || !process.isAlive());
    if (line.isEmpty()) {
      throw new AssertionError(
          name + " ended with " + process.exitValue() + " before " + what + ":\n" + output());
    }
    return line.get();
  }

  /**
   * The output's whole lines: a line still being written ("ready in " before its figures) waits.
   */
  private java.util.stream.Stream<String> completeLines() {
    String out = output();
    return out.substring(0, out.lastIndexOf('\n') + 1).lines();
  }

  boolean alive() {
    return process.isAlive();
  }

  /**
   * SIGTERM (as systemd stops a unit) and its exit code, or -1 when it was still running after
   * {@code within} (it is then killed).
   */
  int stop(Duration within) throws InterruptedException {
    List<ProcessHandle> started = process.descendants().toList();
    process.destroy();
    boolean ended = process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS);
    started.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    if (ended) {
      return process.exitValue();
    }
    close();
    return -1;
  }

  /** Kills it and whatever it started that still runs; removes its output file. */
  @Override
  public void close() throws InterruptedException {
    List<ProcessHandle> started = process.descendants().toList();
    process.destroyForcibly();
    started.forEach(ProcessHandle::destroyForcibly);
    process.waitFor(30, TimeUnit.SECONDS);
    for (ProcessHandle p : started) {
      p.onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> p).join();
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      // a temporary file: nothing to do
    }
  }
}
