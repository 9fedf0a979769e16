package dev.umbra.bench;

import dev.umbra.kit.db.PgLocation;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.File;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the load harnesses share: how a run ends, how a latency distribution is shown, settings from
 * the environment, a database statement, and the services they start as their own processes.
 */
public final class BenchRuns {

  /**
   * A Vert.x for a bench's own clients and servers, on the native epoll transport as the services
   * run (kit {@code Metrics.newVertx}). On NIO, the selector's timeout is in milliseconds: with a
   * timer due in under half a millisecond it polls without blocking until then, so a load generator
   * pacing frames with a 1 ms timer spun up to 0.5 ms of every millisecond on a vCPU, and a process
   * it woke onto that vCPU (the relay it had just written to) waited behind the spin (perf of
   * RelayBench's event loop, 2026-12-07: {@code clock_gettime} and {@code selectNow} 40 % of its
   * samples; docs/benchmarks.md, "an eleventh machine").
   */
  public static Vertx vertx() {
    return Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
  }

  private BenchRuns() {}

  /** A benchmark body that may fail. */
  public interface Body {
    void run() throws Exception;
  }

  /**
   * Runs {@code body} and exits 0, or prints the failure and exits 1 (event-loop threads would keep
   * a failed run alive). A run that ends prints the hypervisor's steal over it.
   */
  public static void runAndExit(Body body) {
    long[] ticks = BenchMachine.cpuTicks();
    try {
      body.run();
      System.out.println(
          "machine during the run: " + BenchMachine.steal(ticks, BenchMachine.cpuTicks()));
      System.exit(0);
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
  }

  /** " pct: p50.0=… p99.9=…" in microseconds, from nanosecond samples sorted ascending. */
  public static String percentileLadder(long[] sortedNanos) {
    StringBuilder sb = new StringBuilder("    pct:");
    int n = sortedNanos.length;
    for (double q : new double[] {0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}) {
      sb.append(
          String.format(
              Locale.ROOT, " p%s=%d", q * 100, sortedNanos[(int) Math.floor(q * (n - 1))] / 1000));
    }
    return sb.toString();
  }

  /** CPU time of this JVM so far (every thread, user and system), in nanoseconds. */
  public static long jvmCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** The environment variable {@code name}, or {@code dflt} when it is unset or blank. */
  public static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }

  /** Runs one SQL statement on its own JDBC connection to {@code at}. */
  public static void sql(PgLocation at, String statement) throws Exception {
    try (Connection c = DriverManager.getConnection(at.jdbcUrl(), at.jdbcProperties());
        Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }

  /**
   * The PostgreSQL settings at {@code at} that move the messaging figures, as one line: its
   * version, {@code autovacuum} (off on some test machines: then the queue-like message tables keep
   * every dead row for the run), {@code synchronous_commit}, {@code fsync} and {@code
   * shared_buffers}.
   */
  public static String postgresSettings(PgLocation at) throws Exception {
    try (Connection c = DriverManager.getConnection(at.jdbcUrl(), at.jdbcProperties());
        Statement st = c.createStatement();
        java.sql.ResultSet r =
            st.executeQuery(
                "SELECT current_setting('server_version'), current_setting('autovacuum'),"
                    + " current_setting('synchronous_commit'), current_setting('fsync'),"
                    + " current_setting('shared_buffers')")) {
      r.next();
      return "postgres: version="
          + r.getString(1).split(" ")[0]
          + ", autovacuum="
          + r.getString(2)
          + ", synchronous_commit="
          + r.getString(3)
          + ", fsync="
          + r.getString(4)
          + ", shared_buffers="
          + r.getString(5);
    }
  }

  /**
   * Polls a service process's {@code /healthz} on {@code port} until it answers 200; fails when the
   * process exits (with its log) or {@code within} passes.
   */
  public static void awaitHealthy(Process p, String name, int port, Path log, Duration within)
      throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException(name + " exited: " + Files.readString(log));
      }
      try {
        HttpURLConnection c =
            (HttpURLConnection)
                URI.create("http://127.0.0.1:" + port + "/healthz").toURL().openConnection();
        c.setConnectTimeout(2_000);
        c.setReadTimeout(2_000);
        if (c.getResponseCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(name + " did not become healthy on port " + port);
  }

  /** Runs {@code jcmd <pid> command...} against a JVM this run started, and waits for it. */
  public static void jcmd(Process p, String... command) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                String.valueOf(p.pid())));
    cmd.addAll(List.of(command));
    try {
      new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(new File("/dev/null"))
          .start()
          .waitFor();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
