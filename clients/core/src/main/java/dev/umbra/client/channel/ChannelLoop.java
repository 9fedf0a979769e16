package dev.umbra.client.channel;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One plain thread that a relay client's channels live on, with their timers: what a Vert.x context
 * is to {@link RelayLink}, for the Vert.x-free one-shot client ({@link PlainRelayClient}). Tasks
 * run one at a time in submission order; a task that throws is logged and the loop goes on. After
 * {@link #stop} tasks and timers are dropped.
 */
public final class ChannelLoop implements ChannelTimers, Executor {
  private static final Logger log = LoggerFactory.getLogger(ChannelLoop.class);
  private final ScheduledThreadPoolExecutor executor;
  private final Map<Long, Future<?>> timers = new ConcurrentHashMap<>();
  private final Set<Long> armed = ConcurrentHashMap.newKeySet();
  private final AtomicLong ids = new AtomicLong();

  public ChannelLoop(String name) {
    this.executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> Thread.ofPlatform().daemon().name(name).unstarted(r),
            new ScheduledThreadPoolExecutor.DiscardPolicy());
    executor.setRemoveOnCancelPolicy(true);
  }

  private static Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.warn("a relay channel task failed", e);
      }
    };
  }

  @Override
  public void execute(Runnable task) {
    executor.execute(guarded(task));
  }

  @Override
  public long setTimer(long delayMs, Runnable task) {
    long id = ids.incrementAndGet();
    armed.add(id); // before it is scheduled: a timer may fire before its future is recorded
    timers.put(
        id,
        executor.schedule(
            () -> {
              timers.remove(id);
              if (armed.remove(id)) {
                guarded(task).run();
              }
            },
            delayMs,
            TimeUnit.MILLISECONDS));
    if (!armed.contains(id)) {
      timers.remove(id); // it fired (or was cancelled) already
    }
    return id;
  }

  @Override
  public long setPeriodic(long everyMs, Runnable task) {
    long id = ids.incrementAndGet();
    timers.put(
        id, executor.scheduleAtFixedRate(guarded(task), everyMs, everyMs, TimeUnit.MILLISECONDS));
    return id;
  }

  @Override
  public void cancelTimer(long id) {
    armed.remove(id);
    Future<?> f = timers.remove(id);
    if (f != null) {
      f.cancel(false);
    }
  }

  /** Stops the loop: tasks and timers not yet run, and any given later, are dropped. */
  public void stop() {
    executor.shutdownNow();
  }
}
