package dev.umbra.dist;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** One finished command of the distribution's tests: its exit code and output (stdout+stderr). */
record Proc(int exit, String output) {

  /** A PATH with no JDK on it: the system's binaries only. */
  static final String NO_JDK_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

  /**
   * Runs {@code command} with exactly {@code env} (plus PATH without a JDK and no JAVA_HOME), fails
   * when it has not ended within {@code timeout}.
   */
  static Proc run(Map<String, String> env, Duration timeout, List<String> command)
      throws IOException, InterruptedException {
    return run(env, Path.of("").toAbsolutePath(), timeout, command);
  }

  /** {@link #run(Map, Duration, List)} in the working directory {@code dir}. */
  static Proc run(Map<String, String> env, Path dir, Duration timeout, List<String> command)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
    pb.environment().clear();
    pb.environment().put("PATH", NO_JDK_PATH);
    pb.environment().putAll(env);
    Path log = Files.createTempFile("umbra-dist-proc", ".log");
    try {
      pb.redirectOutput(log.toFile());
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError(
            command + " did not end within " + timeout + ": " + Files.readString(log));
      }
      return new Proc(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8).strip());
    } finally {
      Files.deleteIfExists(log);
    }
  }

  static Proc run(Map<String, String> env, String... command)
      throws IOException, InterruptedException {
    return run(env, Duration.ofMinutes(3), List.of(command));
  }
}
