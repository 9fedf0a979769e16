package dev.umbra.chaos;

import dev.umbra.kit.testing.Eventually;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server of the chaos suite's own, never the machine's: {@code initdb} into a
 * temporary directory and {@code pg_ctl} on a free port from Debian's binaries, so the suite can
 * stop and restart it. As root (CI containers) the server runs as the {@code postgres} user, as
 * PostgreSQL refuses to run as root.
 */
final class OwnPostgres implements AutoCloseable {
  static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");

  private final Path dir;
  private final Path data;
  private final int port;
  private final boolean asPostgresUser;

  private OwnPostgres(Path dir, int port, boolean asPostgresUser) {
    this.dir = dir;
    this.data = dir.resolve("data");
    this.port = port;
    this.asPostgresUser = asPostgresUser;
  }

  static boolean available() {
    return Files.isExecutable(BIN.resolve("initdb")) && Files.isExecutable(BIN.resolve("pg_ctl"));
  }

  /** A new cluster (trust authentication, user postgres) on a free port, started. */
  static OwnPostgres start() throws Exception {
    Path dir = Files.createTempDirectory("umbra-chaos-pg"); // outside UMBRA_HOME
    boolean root = "root".equals(System.getProperty("user.name"));
    OwnPostgres pg = new OwnPostgres(dir, Ports.free(), root);
    if (root) {
      pg.run(List.of("chown", "-R", "postgres:postgres", dir.toString()), false);
    }
    pg.run(
        List.of(
            BIN.resolve("initdb").toString(),
            "-D",
            pg.data.toString(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync"),
        true);
    pg.startServer();
    return pg;
  }

  URI url() {
    return URI.create("postgresql://postgres@127.0.0.1:" + port + "/umbra");
  }

  int port() {
    return port;
  }

  /** Starts the server and waits until it accepts connections. */
  void startServer() throws Exception {
    run(
        List.of(
            BIN.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-l",
            dir.resolve("server.log").toString(),
            "-o",
            "-p "
                + port
                + " -k "
                + dir
                + " -c listen_addresses=127.0.0.1 -c fsync=off"
                + " -c max_connections=300",
            "-w",
            "-t",
            "60",
            "start"),
        true);
    Eventually.await("own PostgreSQL accepts connections", Duration.ofSeconds(30), this::ready);
  }

  /** Stops the server as an operator's restart would ({@code -m fast}: sessions are ended). */
  void stopServer() throws Exception {
    run(
        List.of(
            BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop"),
        true);
  }

  /**
   * SIGKILL to the postmaster and every backend at once: a crash, not a shutdown (no checkpoint,
   * sessions cut mid-transaction); the next {@link #startServer} runs crash recovery from the WAL.
   */
  void crash() throws Exception {
    long pid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
    ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
    List<ProcessHandle> all = new ArrayList<>(postmaster.descendants().toList());
    all.add(0, postmaster);
    all.forEach(ProcessHandle::destroyForcibly);
    Eventually.await(
        "every PostgreSQL process gone after SIGKILL",
        Duration.ofSeconds(20),
        () -> all.stream().noneMatch(ProcessHandle::isAlive));
  }

  boolean ready() throws Exception {
    Process p =
        new ProcessBuilder(
                BIN.resolve("pg_isready").toString(), "-h", "127.0.0.1", "-p", "" + port, "-q")
            .start();
    return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  private void run(List<String> cmd, boolean asServerUser) throws Exception {
    List<String> full = new ArrayList<>();
    if (asServerUser && asPostgresUser) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(cmd);
    Path log = Files.createTempFile("umbra-chaos-pgctl", ".log"); // outside UMBRA_HOME
    Process p =
        new ProcessBuilder(full)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(full + " failed: " + Files.readString(log));
    }
    Files.deleteIfExists(log);
  }

  @Override
  public void close() {
    try {
      run(
          List.of(
              BIN.resolve("pg_ctl").toString(),
              "-D",
              data.toString(),
              "-m",
              "immediate",
              "-w",
              "stop"),
          true);
    } catch (Exception e) {
      // already stopped
    }
    try {
      new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
    } catch (IOException e) {
      // a leftover temporary directory is harmless
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
