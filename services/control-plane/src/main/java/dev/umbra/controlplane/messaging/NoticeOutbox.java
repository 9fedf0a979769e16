package dev.umbra.controlplane.messaging;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes message notices (MAC'd: {@link Notices}) on the bus, and publishes again the ones that
 * failed (Redis restarting or unreachable): a notice lost here would leave a recipient's open
 * socket without the copy until it reconnects (docs/messaging.md, "Delivery guarantees"). The
 * outbox keeps a notice's bytes unsealed and seals them at <b>each</b> attempt (a fresh time and
 * MAC, {@link Sealer}): a body sealed once at the first attempt would be refused as stale by the
 * receiving instance once a retry goes out more than the seal window ({@link
 * dev.umbra.crypto.CryptoConstants#BUS_SEAL_WINDOW_MILLIS}, 30 s, as long as {@link #RETRY_FOR})
 * after it, the clocks' skew included. A retry of a publish that reached Redis after all (a
 * timeout) thus arrives as a second, differently MAC'd notice of the same copy: the receiving
 * instance drops it ({@link RecentPushes}), and clients drop ids they showed. A notice is published
 * at once (pipelined, as the bus keeps call order); once one of a channel fails, that channel's
 * notices — the failed ones in the order they failed, then every new one — wait in one queue and go
 * out one at a time, in order, after {@value #FIRST_RETRY_MS} ms doubling to {@value #MAX_RETRY_MS}
 * ms, for up to {@link #RETRY_FOR}; then the queue is dropped and counted (the copies stay stored:
 * a recipient's next fetch has them). A notice that reached nobody is not retried: nobody listening
 * is the usual case (the recipient has no socket), and an instance whose subscription was
 * interrupted closes its sockets with 1013 so their clients fetch (see {@link
 * LiveSocket#CLOSE_TRY_AGAIN}). Counted in {@code umbra_control_plane_message_notices{outcome}}; a
 * notice's body is never logged nor metered.
 */
final class NoticeOutbox {
  private static final Logger log = LoggerFactory.getLogger(NoticeOutbox.class);

  static final long FIRST_RETRY_MS = 50;
  static final long MAX_RETRY_MS = 1_000;

  /** How long a failing channel's notices are retried before they are dropped. */
  static final Duration RETRY_FOR = Duration.ofSeconds(30);

  /** Notices waiting for a retry, all channels together; beyond, new ones are dropped. */
  static final int MAX_WAITING = 100_000;

  /**
   * Bytes of the notices waiting for a retry, all channels together; beyond, new ones are dropped:
   * a notice may carry a copy of up to 32 KiB ({@link Notices}), so the count alone would let an
   * outage of Redis hold gigabytes.
   */
  static final long MAX_WAITING_BYTES = 64L * 1024 * 1024;

  /** Seals a notice's bytes for a channel, now (each call a fresh time and MAC). */
  @FunctionalInterface
  interface Sealer {
    Buffer seal(String channel, byte[] notice);
  }

  /** What became of a notice. */
  enum Outcome {
    PUBLISHED("published"),
    NO_RECEIVER("no_receiver"),
    /** A publish that failed (the first or a retry); the notice is retried. */
    FAILED("failed"),
    RETRIED("retried"),
    DROPPED("dropped");

    final String tag;

    Outcome(String tag) {
      this.tag = tag;
    }
  }

  private final Vertx vertx;
  private final Bus bus;
  private final Sealer sealer;
  private final Map<Outcome, Counter> counters = new java.util.EnumMap<>(Outcome.class);
  private final Map<String, Failing> failing = new ConcurrentHashMap<>();
  private final AtomicInteger waiting = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong waitingBytes =
      new java.util.concurrent.atomic.AtomicLong();
  private final long maxWaitingBytes;

  NoticeOutbox(Vertx vertx, Bus bus, Sealer sealer, MeterRegistry registry) {
    this(vertx, bus, sealer, registry, MAX_WAITING_BYTES);
  }

  NoticeOutbox(Vertx vertx, Bus bus, Sealer sealer, MeterRegistry registry, long maxWaitingBytes) {
    this.vertx = vertx;
    this.bus = bus;
    this.sealer = sealer;
    this.maxWaitingBytes = maxWaitingBytes;
    for (Outcome o : Outcome.values()) {
      counters.put(
          o,
          Counter.builder(Metrics.name("control-plane", "message_notices"))
              .tag("outcome", o.tag)
              .register(registry));
    }
  }

  /**
   * Seals {@code notice} and publishes it on {@code channel}, behind that channel's failed notices
   * if any.
   */
  void publish(String channel, byte[] notice) {
    publish(channel, notice, null);
  }

  /**
   * As {@link #publish(String, byte[])}; {@code published} (if not null) runs when Redis answered
   * the notice's first publish (not a retry's: timed as {@link StageTimers.Stage#PUBLISHED}).
   */
  void publish(String channel, byte[] notice, Runnable published) {
    Failing f = failing.get(channel);
    if (f != null && f.offer(notice, false)) {
      return;
    }
    send(channel, notice, published);
  }

  private void send(String channel, byte[] notice, Runnable published) {
    bus.publish(channel, sealer.seal(channel, notice))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                count(ar.result() == 0 ? Outcome.NO_RECEIVER : Outcome.PUBLISHED);
                if (published != null) {
                  published.run();
                }
              } else {
                count(Outcome.FAILED);
                failed(channel, notice);
              }
            });
  }

  /** Queues a failed notice for its channel's retries (starting them if none run). */
  private void failed(String channel, byte[] notice) {
    while (true) {
      Failing f = failing.computeIfAbsent(channel, c -> new Failing(c));
      if (f.offer(notice, true)) {
        return;
      }
      failing.remove(channel, f); // it just ended: start another
    }
  }

  private void count(Outcome o) {
    counters.get(o).increment();
  }

  /** How many notices wait for a retry (tests). */
  int waiting() {
    return waiting.get();
  }

  /**
   * One channel's notices while its publishes fail: retried in order, one at a time, each sealed
   * again at each attempt. They wait unsealed; their bytes are counted against {@link
   * #MAX_WAITING_BYTES}.
   */
  private final class Failing {
    private final String channel;
    private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
    private final long since = System.nanoTime();
    private long delayMs = FIRST_RETRY_MS;
    private boolean started;
    private boolean ended;

    Failing(String channel) {
      this.channel = channel;
    }

    /**
     * Queues {@code notice}; false once this queue ended (the caller publishes directly or makes a
     * new one). {@code start}: a failure, which starts the retries if they have not started.
     */
    boolean offer(byte[] notice, boolean start) {
      synchronized (this) {
        if (ended) {
          return false;
        }
        if (waiting.incrementAndGet() > MAX_WAITING
            || waitingBytes.addAndGet(notice.length) > maxWaitingBytes) {
          waiting.decrementAndGet();
          waitingBytes.addAndGet(-notice.length);
          count(Outcome.DROPPED);
          return true;
        }
        queue.add(notice);
        if (!start || started) {
          return true;
        }
        started = true;
      }
      log.warn("message notices not published; retrying for up to {} s", RETRY_FOR.toSeconds());
      later();
      return true;
    }

    private void later() {
      long delay;
      synchronized (this) {
        delay = delayMs;
        delayMs = Math.min(MAX_RETRY_MS, delayMs * 2);
      }
      vertx.setTimer(delay, t -> next());
    }

    /** Publishes the head, sealed now; on success the next one at once, on failure again later. */
    private void next() {
      byte[] head;
      synchronized (this) {
        if (System.nanoTime() - since > RETRY_FOR.toNanos()) {
          drop();
          return;
        }
        head = queue.peek();
        if (head == null) {
          end();
          return;
        }
      }
      bus.publish(channel, sealer.seal(channel, head))
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  count(Outcome.FAILED);
                  later();
                  return;
                }
                count(Outcome.RETRIED);
                synchronized (this) {
                  waitingBytes.addAndGet(-queue.poll().length);
                  waiting.decrementAndGet();
                  delayMs = FIRST_RETRY_MS;
                }
                next();
              });
    }

    /** Called holding the monitor: nothing more is queued here. */
    private void end() {
      ended = true;
      failing.remove(channel, this);
    }

    private void drop() {
      int n = queue.size();
      queue.forEach(b -> waitingBytes.addAndGet(-b.length));
      queue.clear();
      waiting.addAndGet(-n);
      counters.get(Outcome.DROPPED).increment(n);
      log.warn(
          "{} message notices dropped after {} s of failed publishes", n, RETRY_FOR.toSeconds());
      end();
    }
  }
}
