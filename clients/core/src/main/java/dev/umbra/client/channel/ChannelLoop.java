package dev.umbra.client.channel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One plain thread that a relay client's channels live on, with their timers: what a Vert.x
 * context is to {@link RelayLink}, for the Vert.x-free one-shot client ({@link PlainRelayClient}).
 * Tasks run one at a time in submission order; a task that throws is reported to {@code onError}
 * and the loop goes on.
 */
public final class ChannelLoop implements ChannelTimers, Executor {
  private final ScheduledThreadPoolExecutor executor;
  private final Map<Long, Future<?>> timers = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile Thread thread;

  public ChannelLoop(String name) {
    this.executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = Thread.ofPlatform().daemon().name(name).unstarted(r);
      thread = t;
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
  }

  /** True on the loop's thread. */
  public boolean onLoop() {
    return Thread.currentThread() == thread;
  }

  @Override
  public void execute(Runnable task) {
    executor.execute(task);
  }

  @Override
  public long setTimer(long delayMs, Runnable task) {
    long id = ids.incrementAndGet();
    timers.put(id, executor.schedule(() -> {
      if (timers.remove(id) != null) {
        task.run();
      }
    }, delayMs, TimeUnit.MILLISECONDS));
    return id;
  }

  @Override
  public long setPeriodic(long everyMs, Runnable task) {
    long id = ids.incrementAndGet();
    timers.put(id, executor.scheduleAtFixedRate(task, everyMs, everyMs, TimeUnit.MILLISECONDS));
    return id;
  }

  @Override
  public void cancelTimer(long id) {
    Future<?> f = timers.remove(id);
    if (f != null) {
      f.cancel(false);
    }
  }

  /** Stops the loop: tasks not yet run are dropped. */
  public void stop() {
    executor.shutdownNow();
  }
}
