package dev.umbra.bench.messaging;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The owner's window of messages in flight: a message holds a permit from {@link #send} until its
 * outcome, and gives it back in one place only ({@link #settle}, reached from the outcome of the
 * future its send gave, or from the send's own throw): success, refusal, timeout and exception all
 * end there, once. Three runs of 2026-12-05/06 hung for good at a phase's end because a send path
 * (a session refresh that threw inside the batcher, after it had counted a request running and
 * taken its messages off the queue) never gave its permits back.
 *
 * <p>A window that makes no progress (no permit taken or given back) for {@code stall} fails with
 * {@link Stalled}, naming the messages outstanding, instead of waiting forever.
 */
final class SendWindow {
  private final int size;
  private final Duration stall;
  private final Semaphore permits;
  private final Map<Integer, Long> outstanding = new ConcurrentSkipListMap<>(); // seq -> since
  private final AtomicLong progress = new AtomicLong(System.nanoTime());
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicReference<String> lastError = new AtomicReference<>();
  private final Supplier<String> context;

  /** {@code context}: what else to say when the window stalls (e.g. the batcher's state). */
  SendWindow(int size, Duration stall, Supplier<String> context) {
    this.size = size;
    this.stall = stall;
    this.permits = new Semaphore(size);
    this.context = context;
  }

  /** No progress within the stall limit: what was outstanding, in its message. */
  static final class Stalled extends Exception {
    Stalled(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Takes a permit for message {@code seq} (waiting at most the stall limit without progress), then
   * runs {@code work}; the permit comes back when the future it gives completes, or at once if it
   * throws.
   */
  void send(int seq, Supplier<Future<Void>> work) throws Stalled, InterruptedException {
    await(1);
    outstanding.put(seq, System.nanoTime());
    progress.set(System.nanoTime());
    Future<Void> f;
    try {
      f = work.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> settle(seq, ar));
  }

  /**
   * The one place a permit goes back: message {@code seq}'s outcome (once; a repeat is refused).
   */
  private void settle(int seq, AsyncResult<Void> ar) {
    if (outstanding.remove(seq) == null) {
      throw new IllegalStateException("message " + seq + " settled twice");
    }
    if (ar.failed()) {
      failed.incrementAndGet();
      lastError.set(String.valueOf(ar.cause()));
    }
    progress.set(System.nanoTime());
    permits.release();
  }

  /** Waits until every message sent has its outcome (the window is whole again). */
  void drain() throws Stalled, InterruptedException {
    await(size);
    permits.release(size);
  }

  private void await(int n) throws Stalled, InterruptedException {
    while (!permits.tryAcquire(n, 1, TimeUnit.SECONDS)) {
      long idle = System.nanoTime() - progress.get();
      if (idle > stall.toNanos()) {
        throw new Stalled(describe(idle));
      }
    }
  }

  /** What is outstanding: how many, the oldest few with their ages, and the caller's context. */
  String describe(long idleNanos) {
    StringBuilder b =
        new StringBuilder()
            .append("no progress for ")
            .append(TimeUnit.NANOSECONDS.toSeconds(idleNanos))
            .append(" s; window ")
            .append(permits.availablePermits())
            .append(" of ")
            .append(size)
            .append(" free, ")
            .append(outstanding.size())
            .append(" outstanding");
    long now = System.nanoTime();
    int shown = 0;
    for (Map.Entry<Integer, Long> e : outstanding.entrySet()) {
      if (shown++ == 8) {
        b.append(" …");
        break;
      }
      b.append(shown == 1 ? ": " : ", ")
          .append('#')
          .append(e.getKey())
          .append(" for ")
          .append(TimeUnit.NANOSECONDS.toMillis(now - e.getValue()))
          .append(" ms");
    }
    if (outstanding.size() + permits.availablePermits() != size) {
      b.append("; permits unaccounted for: ")
          .append(size - outstanding.size() - permits.availablePermits());
    }
    return b.append("; ").append(context.get()).toString();
  }

  /** Permits free now (all of them once the window is drained). */
  int free() {
    return permits.availablePermits();
  }

  int failed() {
    return failed.get();
  }

  /** The last failure's text, or null. */
  String lastError() {
    return lastError.get();
  }
}
