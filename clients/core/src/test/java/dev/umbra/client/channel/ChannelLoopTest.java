package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The plain thread of the one-shot relay client: its tasks in order, its timers, its end. */
class ChannelLoopTest {
  @Test
  void tasksRunInOrderOnOneThreadAndAThrowingTaskDoesNotStopTheLoop() throws Exception {
    ChannelLoop loop = new ChannelLoop("test-loop");
    List<Integer> seen = new CopyOnWriteArrayList<>();
    List<String> threads = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 100; i++) {
      int n = i;
      loop.execute(
          () -> {
            seen.add(n);
            threads.add(Thread.currentThread().getName());
            if (n == 50) {
              throw new IllegalStateException("a failing task");
            }
          });
    }
    CompletableFuture<Void> last = CompletableFuture.runAsync(() -> {}, loop);
    last.get(5, TimeUnit.SECONDS);
    assertThat(seen).hasSize(100).isSorted();
    assertThat(threads).containsOnly("test-loop");
    loop.stop();
  }

  @Test
  void timersFireOnceUnlessCancelledAndPeriodicOnesRepeat() throws Exception {
    ChannelLoop loop = new ChannelLoop("test-loop");
    CountDownLatch fired = new CountDownLatch(1);
    CountDownLatch repeated = new CountDownLatch(3);
    List<String> cancelledRan = new CopyOnWriteArrayList<>();
    long cancelled = loop.setTimer(20, () -> cancelledRan.add("ran"));
    loop.cancelTimer(cancelled);
    loop.setTimer(1, fired::countDown);
    long periodic = loop.setPeriodic(5, repeated::countDown);
    assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(repeated.await(5, TimeUnit.SECONDS)).isTrue();
    loop.cancelTimer(periodic);
    CountDownLatch later = new CountDownLatch(1);
    loop.setTimer(60, later::countDown);
    assertThat(later.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(cancelledRan).isEmpty();
    loop.stop();
  }

  @Test
  void afterStopTasksAreDroppedWithoutAnError() {
    ChannelLoop loop = new ChannelLoop("test-loop");
    loop.stop();
    List<String> ran = new CopyOnWriteArrayList<>();
    loop.execute(() -> ran.add("task"));
    loop.setTimer(1, () -> ran.add("timer"));
    assertThat(ran).isEmpty();
  }
}
