package dev.umbra.webtty.recording;

import dev.umbra.webtty.metrics.EngineMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes session rows and recording events to PostgreSQL in order, in batches: events wait in a
 * bounded queue and are flushed when {@link #BATCH} events or {@link #BATCH_BYTES} of ciphertext
 * are waiting, or after {@link #LINGER_MS}; one flush runs at a time, so order is kept.
 * Backpressure: above {@link #HIGH_WATER} queued events or {@link #HIGH_WATER_BYTES} queued bytes
 * {@link #saturated()} turns true and the session home pauses its servers' sockets until the queue
 * falls below both low marks (then the resume callback runs). A failed flush is retried (the events
 * stay queued): nothing is dropped while PostgreSQL is down, the servers just stop being read.
 * Confined to the verticle's event loop.
 */
public final class RecordingWriter {
  public static final int BATCH = 512;
  public static final long LINGER_MS = 20;
  public static final int HIGH_WATER = 8_192;
  public static final int LOW_WATER = 2_048;

  /** Events carry up to 64 KiB each, so the queue is bounded in bytes too. */
  public static final long BATCH_BYTES = 8L << 20;

  public static final long HIGH_WATER_BYTES = 32L << 20;
  public static final long LOW_WATER_BYTES = 8L << 20;
  private static final long RETRY_MS = 500;
  private static final Logger log = LoggerFactory.getLogger(RecordingWriter.class);

  private sealed interface Op permits Event, Create, End, Update {}

  private record Event(StoredEvent event) implements Op {}

  private record Create(Supplier<Future<Void>> work) implements Op {}

  private record End(Supplier<Future<Void>> work) implements Op {}

  /** A change to a session row after its creation (the output recipients after a share). */
  private record Update(Supplier<Future<Void>> work) implements Op {}

  private final Vertx vertx;
  private final RecordingStore store;
  private final EngineMetrics metrics;
  private final ArrayDeque<Op> queue = new ArrayDeque<>();
  private int queuedEvents;
  private long queuedBytes;
  private boolean flushing;
  private long timer = -1;
  private boolean saturated;
  private Runnable onResume = () -> {};
  private boolean closed;

  public RecordingWriter(Vertx vertx, RecordingStore store, EngineMetrics metrics) {
    this.vertx = vertx;
    this.store = store;
    this.metrics = metrics;
  }

  /** The store, for reads and takeovers that must not wait behind the batched writes. */
  public RecordingStore store() {
    return store;
  }

  public void onResume(Runnable r) {
    this.onResume = r;
  }

  public boolean saturated() {
    return saturated;
  }

  public void createSession(
      UUID ws,
      String sessionId,
      String serverId,
      String openedBy,
      boolean recording,
      long startedMs,
      byte[] header) {
    enqueue(
        new Create(
            () ->
                store.createSession(
                    ws, sessionId, serverId, openedBy, recording, startedMs, header)));
  }

  public void endSession(
      UUID ws, String sessionId, long endedMs, String reason, Integer exitStatus) {
    enqueue(new End(() -> store.endSession(ws, sessionId, endedMs, reason, exitStatus)));
  }

  /**
   * After a share: the session's output-key recipients (key ids, lowercase hex) from now on, for
   * the live list.
   */
  public void outputRecipients(UUID ws, String sessionId, java.util.Collection<String> keyIds) {
    enqueue(new Update(() -> store.outputRecipients(ws, sessionId, keyIds)));
  }

  public void record(StoredEvent e) {
    queuedEvents++;
    queuedBytes += e.bytes();
    metrics.recordingQueue.set(queuedEvents);
    if (queuedEvents >= HIGH_WATER || queuedBytes >= HIGH_WATER_BYTES) {
      saturated = true;
    }
    enqueue(new Event(e));
  }

  private boolean batchReady() {
    return queuedEvents >= BATCH || queuedBytes >= BATCH_BYTES;
  }

  private void enqueue(Op op) {
    queue.add(op);
    if (flushing) {
      return;
    }
    if (batchReady() || !(op instanceof Event)) {
      flushSoon(0);
    } else if (timer < 0) {
      flushSoon(LINGER_MS);
    }
  }

  private void flushSoon(long delay) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    if (delay == 0) {
      vertx.runOnContext(v -> flush());
    } else {
      timer =
          vertx.setTimer(
              delay,
              t -> {
                timer = -1;
                flush();
              });
    }
  }

  /** Completes when everything queued so far is stored (tests, shutdown). */
  public Future<Void> drained() {
    if (queue.isEmpty() && !flushing) {
      return Future.succeededFuture();
    }
    return Future.<Void>future(p -> vertx.setTimer(10, t -> drained().onComplete(p)));
  }

  public void close() {
    closed = true;
  }

  private void flush() {
    if (flushing || queue.isEmpty()) {
      return;
    }
    flushing = true;
    // The head op alone, or a run of events of one workspace (up to BATCH).
    Op head = queue.peek();
    Future<Void> work;
    int taken;
    if (head instanceof Event first) {
      UUID ws = first.event().workspaceId();
      List<StoredEvent> batch = new ArrayList<>();
      long bytes = 0;
      for (Op op : queue) {
        if (!(op instanceof Event e)
            || !e.event().workspaceId().equals(ws)
            || batch.size() >= BATCH
            || bytes >= BATCH_BYTES) {
          break;
        }
        batch.add(e.event());
        bytes += e.event().bytes();
      }
      taken = batch.size();
      work = store.insertEvents(ws, batch);
    } else {
      taken = 1;
      work =
          head instanceof Create c
              ? c.work().get()
              : head instanceof Update u ? u.work().get() : ((End) head).work().get();
    }
    boolean events = head instanceof Event;
    work.onComplete(
        ar -> {
          flushing = false;
          if (ar.failed()) {
            metrics.recordingFailures();
            log.warn("recording write failed, will retry: {}", ar.cause().getMessage());
            if (!closed) {
              vertx.setTimer(RETRY_MS, t -> flush());
            }
            return;
          }
          for (int i = 0; i < taken; i++) {
            if (queue.poll() instanceof Event e) {
              queuedBytes -= e.event().bytes();
            }
          }
          if (events) {
            queuedEvents -= taken;
            metrics.recorded(taken);
            metrics.recordingQueue.set(queuedEvents);
          }
          if (saturated && queuedEvents <= LOW_WATER && queuedBytes <= LOW_WATER_BYTES) {
            saturated = false;
            onResume.run();
          }
          if (!queue.isEmpty()) {
            if (batchReady() || !(queue.peek() instanceof Event)) {
              flush();
            } else if (timer < 0) {
              flushSoon(LINGER_MS);
            }
          }
        });
  }
}
