package dev.umbra.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThreadTimesTest {
  @TempDir Path root;

  private void thread(long pid, long tid, String name, String schedstat) throws IOException {
    Path task = root.resolve("proc/" + pid + "/task/" + tid);
    Files.createDirectories(task);
    Files.writeString(task.resolve("comm"), name + "\n");
    Files.writeString(task.resolve("schedstat"), schedstat + "\n");
  }

  @Test
  void sumsTheWaitAndRunOfEveryThreadAndTheCompilersRunApart() throws IOException {
    thread(7, 7, "java", "1000 200 3");
    thread(7, 8, "C2 CompilerThre", "5000 10 2");
    thread(7, 9, "vert.x-eventloo", "3000 400 9");
    ThreadTimes.Reading before = ThreadTimes.read(root, List.of(7L));
    thread(7, 7, "java", "1500 250 4");
    thread(7, 8, "C2 CompilerThre", "9000 30 3");
    thread(7, 9, "vert.x-eventloo", "3100 1400 10");
    thread(7, 10, "C1 CompilerThre", "700 5 1"); // started in between: counts from zero
    ThreadTimes.Reading after = ThreadTimes.read(root, List.of(7L));

    ThreadTimes.Delta d = ThreadTimes.between(before, after, 7);

    assertThat(d.waitNs()).isEqualTo(50 + 20 + 1000 + 5);
    assertThat(d.runNs()).isEqualTo(500 + 4000 + 100 + 700);
    assertThat(d.jitNs()).isEqualTo(4000 + 700);
    assertThat(d.topWaiter()).isEqualTo("vert.x-eventloo");
    assertThat(d.topWaitNs()).isEqualTo(1000);
  }

  @Test
  void threadsOfOneNameWaitTogetherAndTheLongerWaiterLeadsASum() throws IOException {
    thread(7, 7, "vert.x-eventloo", "0 0 0");
    thread(7, 8, "vert.x-eventloo", "0 0 0");
    thread(7, 9, "java", "0 0 0");
    ThreadTimes.Reading before = ThreadTimes.read(root, List.of(7L));
    thread(7, 7, "vert.x-eventloo", "0 300 1");
    thread(7, 8, "vert.x-eventloo", "0 300 1");
    thread(7, 9, "java", "0 500 1");
    ThreadTimes.Reading after = ThreadTimes.read(root, List.of(7L));

    ThreadTimes.Delta d = ThreadTimes.between(before, after, 7);
    assertThat(d.topWaiter()).isEqualTo("vert.x-eventloo");
    assertThat(d.topWaitNs()).isEqualTo(600);
    ThreadTimes.Delta other = new ThreadTimes.Delta(10, 0, 0, "postgres", 900);
    assertThat(d.plus(other)).isEqualTo(new ThreadTimes.Delta(1110, 0, 0, "postgres", 900));
  }

  @Test
  void anEndedOrUnreadableThreadOrProcessCountsNothing() throws IOException {
    thread(7, 7, "java", "1000 200 3");
    thread(7, 8, "odd", "not numbers");
    thread(7, 9, "short", "12");
    ThreadTimes.Reading r = ThreadTimes.read(root, List.of(7L, 99L));

    assertThat(r.byProcess().get(7L)).containsOnlyKeys(7L);
    assertThat(r.byProcess().get(99L)).isEmpty();
    assertThat(ThreadTimes.between(r, r, 99)).isEqualTo(ThreadTimes.Delta.NONE);
  }

  @Test
  void readsThisProcessThreadsFromTheKernel() {
    long pid = ProcessHandle.current().pid();
    assumeTrue(
        Files.exists(Path.of("/proc/" + pid + "/task/" + pid + "/schedstat")),
        "the kernel keeps no schedstat");
    ThreadTimes.Reading before = ThreadTimes.read(List.of(pid));
    long spin = System.nanoTime() + 20_000_000;
    long x = 0;
    while (System.nanoTime() < spin) {
      x += x ^ System.nanoTime();
    }
    ThreadTimes.Reading after = ThreadTimes.read(List.of(pid));

    assertThat(x).isNotZero();
    assertThat(ThreadTimes.between(before, after, pid).runNs()).isGreaterThan(10_000_000);
  }
}
