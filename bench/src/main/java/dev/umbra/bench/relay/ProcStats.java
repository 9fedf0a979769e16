package dev.umbra.bench.relay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Per-thread scheduler figures of a process under test (Linux {@code /proc/<pid>/task/<tid>/}), for
 * {@code -Dumbra.bench.threads=1}: CPU time, time spent runnable but waiting for a CPU, and how
 * many times each thread was scheduled in, all divided by the frames of a latency point. They say
 * what a process does per frame independently of how loaded the machine is (latency does not): a
 * thread that wakes for every frame, a second thread on the path, a timer firing.
 */
final class ProcStats {
  static final boolean ON = System.getProperty("umbra.bench.threads") != null;

  /** One thread's counters: ns on CPU, ns waiting on a run queue, times scheduled in. */
  record Counters(String name, long cpuNanos, long waitNanos, long slices) {}

  private ProcStats() {}

  /** Counters of every thread of {@code pids} (and their children), summed by thread name. */
  static Map<String, Counters> snapshot(List<Long> pids) {
    Map<String, Counters> byName = new TreeMap<>();
    for (long pid : pids) {
      List<Long> all =
          Stream.concat(
                  Stream.of(pid),
                  ProcessHandle.of(pid).stream()
                      .flatMap(ProcessHandle::descendants)
                      .map(p -> p.pid()))
              .toList();
      for (long p : all) {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(p), "task"))) {
          for (Path t : tasks.toList()) {
            read(t).ifPresent(c -> byName.merge(c.name(), c, ProcStats::sum));
          }
        } catch (IOException e) {
          // the process ended
        }
      }
    }
    return byName;
  }

  /**
   * CPU time so far of every thread of {@code pids} (and their children) but the JIT compilers', in
   * nanoseconds: what the work itself costs, not how far a JVM's warm-up got, which on a loaded
   * machine drags on into the measured rounds.
   */
  static long cpuNanos(List<Long> pids) {
    return snapshot(pids).values().stream()
        .filter(c -> !c.name().startsWith("C1 Compiler") && !c.name().startsWith("C2 Compiler"))
        .mapToLong(Counters::cpuNanos)
        .sum();
  }

  private static java.util.Optional<Counters> read(Path task) {
    return java.util.Optional.ofNullable(dev.umbra.bench.ThreadTimes.times(task))
        .map(
            t ->
                new Counters(
                    t.name().replaceAll("[0-9]+$", "#"), t.runNs(), t.waitNs(), t.slices()));
  }

  private static Counters sum(Counters a, Counters b) {
    return new Counters(
        a.name(),
        a.cpuNanos() + b.cpuNanos(),
        a.waitNanos() + b.waitNanos(),
        a.slices() + b.slices());
  }

  /** Prints what changed between two snapshots, per frame, busiest threads first. */
  static void print(
      String what, Map<String, Counters> before, Map<String, Counters> after, long frames) {
    Map<String, Counters> d = new HashMap<>();
    for (Counters a : after.values()) {
      Counters b = before.get(a.name());
      d.put(
          a.name(),
          b == null
              ? a
              : new Counters(
                  a.name(),
                  a.cpuNanos() - b.cpuNanos(),
                  a.waitNanos() - b.waitNanos(),
                  a.slices() - b.slices()));
    }
    long n = Math.max(1, frames);
    long cpu = d.values().stream().mapToLong(Counters::cpuNanos).sum();
    long wait = d.values().stream().mapToLong(Counters::waitNanos).sum();
    long slices = d.values().stream().mapToLong(Counters::slices).sum();
    StringBuilder top = new StringBuilder();
    d.values().stream()
        .filter(c -> c.slices() > 0)
        .sorted((x, y) -> Long.compare(y.cpuNanos(), x.cpuNanos()))
        .limit(6)
        .forEach(
            c ->
                top.append(
                    String.format(
                        " [%s %.1f us cpu, %.2f wakes]",
                        c.name(), c.cpuNanos() / 1e3 / n, c.slices() / (double) n)));
    System.out.printf(
        "    threads %-22s per frame: cpu %.1f us, run-queue wait %.1f us, %.2f wakes;%s%n",
        what, cpu / 1e3 / n, wait / 1e3 / n, slices / (double) n, top);
  }

  /**
   * umbra.bench.attach="CMD ... {pid} ... {what}": a tool run against each process under test for
   * the length of one latency point (e.g. {@code strace -c -f -p {pid} -o /tmp/{what}.txt}),
   * stopped with SIGINT after it, so a profiler sees both sides of a comparison alike.
   */
  static List<Process> attach(String what, List<Long> pids) throws IOException {
    String cmd = System.getProperty("umbra.bench.attach");
    List<Process> started = new java.util.ArrayList<>();
    if (cmd == null) {
      return started;
    }
    for (long pid : pids) {
      String c =
          cmd.replace("{pid}", String.valueOf(pid))
              .replace(
                  "{what}",
                  what.replaceAll("[^A-Za-z0-9]+", "-") + "-" + pid + "-" + System.nanoTime());
      started.add(new ProcessBuilder("sh", "-c", c).inheritIO().start());
    }
    try {
      Thread.sleep(300); // the tool attaches before the point starts
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return started;
  }

  static void detach(List<Process> tools) throws IOException {
    for (Process p : tools) {
      p.descendants().forEach(d -> signal(d.pid()));
      signal(p.pid());
    }
    for (Process p : tools) {
      try {
        p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void signal(long pid) {
    try {
      new ProcessBuilder("kill", "-INT", String.valueOf(pid)).start().waitFor();
    } catch (IOException | InterruptedException e) {
      // gone already
    }
  }

  interface Point {
    Stats run() throws Exception;
  }

  /**
   * One latency point, with the scheduler figures of {@code pids} when umbra.bench.threads is set.
   */
  static Stats watched(String what, List<Long> pids, int rate, int seconds, Point point)
      throws Exception {
    List<Process> attached = ProcStats.attach(what, pids);
    if (!ProcStats.ON) {
      try {
        return point.run();
      } finally {
        ProcStats.detach(attached);
      }
    }
    var before = ProcStats.snapshot(pids);
    Stats s;
    try {
      s = point.run();
    } finally {
      ProcStats.detach(attached);
    }
    ProcStats.print(what, before, ProcStats.snapshot(pids), (long) rate * (seconds + 1));
    return s;
  }
}
