package dev.umbra.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * How the threads of some processes were scheduled between two readings, from the kernel's
 * per-thread {@code /proc/<pid>/task/<tid>/schedstat} (nanoseconds on a CPU, nanoseconds runnable
 * but waiting for one): how long they waited while runnable, and how long the JIT compiler threads
 * ran (docs/benchmarks.md, "a tick behind a busy vCPU").
 *
 * <p>Why: on the 2-vCPU VMs we measure on, a thread woken onto a vCPU that runs another thread
 * (most often a JIT compiler thread) can wait for the next scheduler tick — 4 ms with the guests'
 * {@code HZ=250} — while the other vCPU idles. A message that crosses five processes meets such a
 * wait far more often than a bare Redis round trip, and that, not any one stage, is the tail. A
 * figure that shows how long the bench's own threads waited says whether its round met it.
 */
public final class ThreadTimes {
  private ThreadTimes() {}

  /**
   * Nanoseconds a thread has run and waited runnable, and the times it was scheduled in, from its
   * schedstat.
   */
  public record Times(String name, long runNs, long waitNs, long slices) {}

  /**
   * What the threads of some processes did between two readings, in nanoseconds; {@code topWaiter}:
   * the thread name (threads of one name together) that waited longest, "" if none waited.
   */
  public record Delta(long waitNs, long runNs, long jitNs, String topWaiter, long topWaitNs) {
    public static final Delta NONE = new Delta(0, 0, 0, "", 0);

    /** Both together; the top waiter is the longer-waiting of the two. */
    public Delta plus(Delta o) {
      boolean mine = topWaitNs >= o.topWaitNs;
      return new Delta(
          waitNs + o.waitNs,
          runNs + o.runNs,
          jitNs + o.jitNs,
          mine ? topWaiter : o.topWaiter,
          mine ? topWaitNs : o.topWaitNs);
    }
  }

  /** A reading of every thread of {@code pids}, by process then thread id. */
  public record Reading(Map<Long, Map<Long, Times>> byProcess) {}

  /** Reads the threads of {@code pids} now (a process that cannot be read has no threads). */
  public static Reading read(Collection<Long> pids) {
    return read(Path.of("/"), pids);
  }

  static Reading read(Path root, Collection<Long> pids) {
    Map<Long, Map<Long, Times>> out = new HashMap<>();
    for (long pid : pids) {
      out.put(pid, threads(root, pid));
    }
    return new Reading(out);
  }

  /**
   * What the threads of {@code pid} did between {@code before} and {@code after}: a thread that
   * started in between counts from zero, one that ended takes its time with it.
   */
  public static Delta between(Reading before, Reading after, long pid) {
    Map<Long, Times> a = after.byProcess().getOrDefault(pid, Map.of());
    Map<Long, Times> b = before.byProcess().getOrDefault(pid, Map.of());
    long wait = 0;
    long run = 0;
    long jit = 0;
    Map<String, Long> waitByName = new HashMap<>();
    for (Map.Entry<Long, Times> e : a.entrySet()) {
      Times now = e.getValue();
      Times then = b.getOrDefault(e.getKey(), new Times(now.name(), 0, 0, 0));
      long ran = now.runNs() - then.runNs();
      long waited = now.waitNs() - then.waitNs();
      wait += waited;
      run += ran;
      waitByName.merge(now.name(), waited, Long::sum);
      if (isJitCompiler(now.name())) {
        jit += ran;
      }
    }
    String top = "";
    long topNs = 0;
    for (Map.Entry<String, Long> e : waitByName.entrySet()) {
      if (e.getValue() > topNs
          || (e.getValue() == topNs && topNs > 0 && e.getKey().compareTo(top) < 0)) {
        top = e.getKey();
        topNs = e.getValue();
      }
    }
    return new Delta(wait, run, jit, top, topNs);
  }

  /** HotSpot's compiler threads, as the kernel shows their names (15 characters). */
  static boolean isJitCompiler(String name) {
    return name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre");
  }

  private static Map<Long, Times> threads(Path root, long pid) {
    Map<Long, Times> out = new HashMap<>();
    Path tasks = root.resolve("proc").resolve(Long.toString(pid)).resolve("task");
    try (Stream<Path> entries = Files.list(tasks)) {
      entries
          .filter(p -> p.getFileName().toString().matches("\\d+"))
          .forEach(
              p -> {
                Times t = times(p);
                if (t != null) {
                  out.put(Long.parseLong(p.getFileName().toString()), t);
                }
              });
    } catch (IOException | RuntimeException e) {
      return Map.of();
    }
    return out;
  }

  /**
   * One thread's times ({@code /proc/<pid>/task/<tid>}), or null when it ended or its files cannot
   * be read or parsed.
   */
  public static Times times(Path task) {
    try {
      String[] f = Files.readString(task.resolve("schedstat")).trim().split("\\s+");
      String name = Files.readString(task.resolve("comm")).trim();
      if (f.length < 2) {
        return null;
      }
      return new Times(
          name,
          Long.parseLong(f[0]),
          Long.parseLong(f[1]),
          f.length > 2 ? Long.parseLong(f[2]) : 0);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
