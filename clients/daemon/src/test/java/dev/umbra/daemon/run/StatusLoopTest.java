package dev.umbra.daemon.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.testing.Eventually;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The daemon's status loop: ticks one after the other until its caller is interrupted. */
class StatusLoopTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  @Test
  void ticksOneAtATimeUntilTheCallerIsInterruptedAndNoneAfter() throws Exception {
    AtomicInteger ticks = new AtomicInteger();
    AtomicInteger running = new AtomicInteger();
    AtomicBoolean overlapped = new AtomicBoolean();
    AtomicBoolean stillInterrupted = new AtomicBoolean();
    StatusLoop loop =
        new StatusLoop(
            Duration.ofMillis(5),
            () -> {
              overlapped.compareAndSet(false, running.incrementAndGet() > 1);
              ticks.incrementAndGet();
              running.decrementAndGet();
            });
    Thread caller =
        Thread.ofPlatform()
            .start(
                () -> {
                  loop.runUntilInterrupted();
                  stillInterrupted.set(Thread.currentThread().isInterrupted());
                });
    Eventually.await("three ticks", WAIT, () -> ticks.get() >= 3);
    caller.interrupt();
    caller.join(WAIT.toMillis());
    assertThat(caller.isAlive()).as("returned when interrupted").isFalse();
    assertThat(stillInterrupted).as("the interrupt is kept for the caller").isTrue();
    int after = ticks.get();
    Eventually.holdsThroughout("no tick after", Duration.ofMillis(100), () -> ticks.get() == after);
    assertThat(overlapped).isFalse();
  }

  @Test
  void aTickUnderWayEndsBeforeTheLoopReturns() throws Exception {
    CountDownLatch inTick = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean tickEnded = new AtomicBoolean();
    AtomicBoolean endedBeforeReturn = new AtomicBoolean();
    StatusLoop loop =
        new StatusLoop(
            Duration.ofMillis(5),
            () -> {
              inTick.countDown();
              try {
                release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              tickEnded.set(true);
            });
    Thread caller =
        Thread.ofPlatform()
            .start(
                () -> {
                  loop.runUntilInterrupted();
                  endedBeforeReturn.set(tickEnded.get());
                });
    assertThat(inTick.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    caller.interrupt();
    Eventually.holdsThroughout(
        "the loop waits for the tick", Duration.ofMillis(100), caller::isAlive);
    release.countDown();
    caller.join(WAIT.toMillis());
    assertThat(caller.isAlive()).isFalse();
    assertThat(endedBeforeReturn).isTrue();
  }

  @Test
  void aTickThatThrowsEndsTheLoopWithItsException() {
    AtomicInteger ticks = new AtomicInteger();
    AtomicReference<Thread> tickThread = new AtomicReference<>();
    StatusLoop loop =
        new StatusLoop(
            Duration.ofMillis(5),
            () -> {
              tickThread.set(Thread.currentThread());
              if (ticks.incrementAndGet() == 2) {
                throw new IllegalStateException("status file");
              }
            });
    assertThatThrownBy(loop::runUntilInterrupted)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("status file");
    assertThat(ticks).hasValue(2);
    assertThat(tickThread.get().getName()).isEqualTo("umbra-daemon-status");
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }
}
