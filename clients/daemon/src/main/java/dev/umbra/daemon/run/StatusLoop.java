package dev.umbra.daemon.run;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What {@code umbra daemon run} does while it runs: every {@code every}, one {@code tick} (a
 * heartbeat when one is due, then the status file) on a scheduled executor of its own, one tick
 * after the other and never two at once. The work blocks (HTTP check-ins, file writes), which is
 * why it is not a Vert.x timer: it would hold an event loop.
 */
final class StatusLoop {
  private final Duration every;
  private final Runnable tick;

  StatusLoop(Duration every, Runnable tick) {
    this.every = every;
    this.tick = tick;
  }

  /**
   * Ticks until the calling thread is interrupted (then returns, with the thread still marked
   * interrupted) or a tick throws (then rethrows it); either way no tick runs any more after.
   */
  void runUntilInterrupted() {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "umbra-daemon-status");
              t.setDaemon(true);
              return t;
            });
    long ms = every.toMillis();
    ScheduledFuture<?> ticks = timer.scheduleWithFixedDelay(tick, ms, ms, TimeUnit.MILLISECONDS);
    try {
      ticks.get(); // a periodic task ends only when a tick throws
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      ticks.cancel(false);
      timer.shutdown();
      awaitLastTick(timer);
    }
  }

  /** Lets a tick under way end before the caller closes what it uses. */
  private static void awaitLastTick(ScheduledExecutorService timer) {
    boolean interrupted = Thread.interrupted();
    try {
      if (!timer.awaitTermination(30, TimeUnit.SECONDS)) {
        timer.shutdownNow();
      }
    } catch (InterruptedException e) {
      timer.shutdownNow();
      interrupted = true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
