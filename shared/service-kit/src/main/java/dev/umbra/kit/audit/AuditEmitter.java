package dev.umbra.kit.audit;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits audit events into the durable ingest stream. Never blocks a request and never fails one:
 * the returned future reports. A failed append is retried for up to {@link #RETRY_FOR} (a Redis
 * restart must not lose events); only then is it counted and logged (without the event's metadata).
 *
 * <p>Before its first append the emitter makes sure the audit consumer group exists, so an event
 * emitted while the audit service has never run (or is down) is still delivered to it later. Events
 * that break {@link AuditEventRules} are refused here (counted as rejected) rather than sent: that
 * is a bug in the emitting service, and its tests should see it.
 *
 * <p>Refusals ({@link AuditEventRules#isRefusal}) are aggregated so that a flood of refused
 * operations cannot become a flood of audit records: per (workspace, action, reason, actor, source
 * IP) the first refusal of a window is written at once with {@code count=1}, the others of that
 * window are only counted, and when the window ({@link #REFUSAL_WINDOW}) closes one event with
 * their {@code count} (and {@code window_ms}) is written, carrying the target and metadata of the
 * first of them. Counts of all events of a key add up to the attempts made. Beyond {@link
 * #MAX_REFUSAL_KEYS} keys in one window, further sources are counted together in the deployment
 * chain. An emit outside a Vert.x context (no timer to close the window) is written at once.
 */
public final class AuditEmitter {
  public static final String INGEST_STREAM = dev.umbra.kit.bus.BusNames.AUDIT_INGEST;

  /** The consumer group of the audit service on {@link #INGEST_STREAM}. */
  public static final String INGEST_GROUP = "audit";

  public static final long STREAM_MAX_LENGTH = 1_000_000;

  /**
   * Appends (batches of events) under way at once; more events wait in a local queue (a burst never
   * exhausts the pool) and go out together in the next batch.
   */
  public static final int MAX_IN_FLIGHT = 2;

  /** Most events appended in one batch (one pipelined write of {@code XADD}s). */
  public static final int MAX_BATCH = 128;

  /** Beyond this many waiting events, emit fails at once (counted as a failure). */
  public static final int MAX_QUEUED = 100_000;

  /** How long failed appends are retried before their events fail (a Redis restart or pause). */
  public static final Duration RETRY_FOR = Duration.ofSeconds(60);

  /** Metadata key of the number of refusals an event stands for. */
  public static final String COUNT = "count";

  /** How long refusals of one key are counted before their summary is written. */
  public static final Duration REFUSAL_WINDOW = Duration.ofSeconds(10);

  /** Keys counted at once; more sources in one window share one deployment-wide key. */
  public static final int MAX_REFUSAL_KEYS = 10_000;

  private static final Logger log = LoggerFactory.getLogger(AuditEmitter.class);

  private final Bus bus;
  private final String service;
  private final Clock clock;
  private final Ulid ids;
  private final Counter emitted;
  private final Counter failed;
  private final Counter rejected;
  private final Counter retried;
  private volatile long failingSinceNanos;
  private volatile long retryMs;
  private volatile Future<Void> groupReady;
  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private int inFlight;
  private final Duration refusalWindow;

  /** Open windows of refusals; guarded by itself. */
  private final Map<RefusalKey, Window> refusals = new HashMap<>();

  private record RefusalKey(
      String workspace, String action, String reason, String actor, String sourceIp) {
    static RefusalKey of(AuditEvent e) {
      return new RefusalKey(
          e.getWorkspaceId(),
          e.getAction(),
          e.getMetadataOrDefault("reason", ""),
          e.getActor().getKind() + ":" + e.getActor().getId(),
          e.getSourceIp());
    }

    RefusalKey overflow() {
      return new RefusalKey("", action, reason, "*", "*");
    }
  }

  /** One key's window: the first counted (not yet written) refusal and how many there were. */
  private static final class Window {
    AuditEvent first;
    long counted;
  }

  public AuditEmitter(Bus bus, String service, Clock clock, MeterRegistry registry) {
    this(bus, service, clock, registry, REFUSAL_WINDOW);
  }

  /** With another aggregation window for refusals (tests). */
  public AuditEmitter(
      Bus bus, String service, Clock clock, MeterRegistry registry, Duration refusalWindow) {
    this.refusalWindow = refusalWindow;
    this.bus = bus;
    this.service = service;
    this.clock = clock;
    this.ids = new Ulid(clock, new java.security.SecureRandom());
    this.emitted = Counter.builder(Metrics.name(service, "audit_emitted")).register(registry);
    this.failed = Counter.builder(Metrics.name(service, "audit_emit_failures")).register(registry);
    this.rejected =
        Counter.builder(Metrics.name(service, "audit_emit_rejected")).register(registry);
    this.retried = Counter.builder(Metrics.name(service, "audit_emit_retries")).register(registry);
  }

  /** Starts a typed event; finish with an outcome and {@link AuditEventBuilder#emit()}. */
  public AuditEventBuilder event(AuditAction action) {
    return new AuditEventBuilder(this, action);
  }

  /**
   * Fills id, time, service and (when unset) a service actor, checks the event, then appends;
   * completes with the event id (a ULID) once the entry is in the stream. The future fails with
   * {@link IllegalArgumentException} for an event that breaks the rules and with the bus error when
   * the append fails; it never throws.
   */
  public Future<String> emit(AuditEvent.Builder event) {
    AuditEvent built;
    try {
      built = prepare(event);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return emitPrepared(built);
  }

  /**
   * The event as {@link #emit(AuditEvent.Builder)} would append it (id, time, service and a default
   * actor filled in, the rules checked), without appending it: for an event that must be written
   * down before it can be appended (an outbox row in the transaction of what it records), then
   * appended with {@link #emitPrepared} under the same id. Throws {@link IllegalArgumentException}
   * (counted as rejected) for an event that breaks the rules.
   */
  public AuditEvent prepare(AuditEvent.Builder event) {
    AuditEvent built;
    try {
      if (event.getId().isEmpty()) {
        event.setId(ids.next());
      }
      if (event.getTimeUnixMs() == 0) {
        event.setTimeUnixMs(clock.millis());
      }
      if (event.getService().isEmpty()) {
        event.setService(service);
      }
      if (!event.hasActor() || event.getActor().getKind() == ActorKind.ACTOR_KIND_UNSPECIFIED) {
        event.setActor(AuditActor.service(service).toProto());
      }
      built = event.build();
    } catch (RuntimeException e) {
      rejected.increment();
      throw new IllegalArgumentException("audit event refused: " + e.getMessage(), e);
    }
    Optional<String> problem = AuditEventRules.problem(built);
    if (problem.isEmpty() && built.getSerializedSize() > AuditEventRules.MAX_EVENT_BYTES) {
      problem = Optional.of("oversized");
    }
    if (problem.isPresent()) {
      rejected.increment();
      log.atWarn()
          .addKeyValue("action", built.getAction())
          .addKeyValue("event_id", built.getId())
          .addKeyValue("reason", problem.get())
          .log("audit event refused before sending: {}", problem.get());
      throw new IllegalArgumentException("audit event refused: " + problem.get());
    }
    return built;
  }

  /**
   * Appends an event {@link #prepare prepared} before (checked again: it may have been changed
   * since or read back from storage); completes as {@link #emit(AuditEvent.Builder)} does.
   */
  public Future<String> emitPrepared(AuditEvent built) {
    Optional<String> problem = AuditEventRules.problem(built);
    if (problem.isPresent() || built.getId().isEmpty()) {
      rejected.increment();
      return Future.failedFuture(
          new IllegalArgumentException(
              "audit event refused: " + problem.orElse("an event needs its id")));
    }
    if (AuditEventRules.isRefusal(built)) {
      return aggregate(built);
    }
    return send(built);
  }

  /** Writes the first refusal of its key's window at once; counts the others into one summary. */
  private Future<String> aggregate(AuditEvent built) {
    Context ctx = Vertx.currentContext();
    if (ctx == null) {
      return send(built.toBuilder().putMetadata(COUNT, "1").build());
    }
    RefusalKey key = RefusalKey.of(built);
    synchronized (refusals) {
      if (!refusals.containsKey(key) && refusals.size() >= MAX_REFUSAL_KEYS) {
        key = key.overflow();
        built =
            built.toBuilder()
                .setWorkspaceId("")
                .setActor(AuditActor.service(service).toProto())
                .setSourceIp("")
                .setTarget("")
                .build();
      }
      Window w = refusals.get(key);
      if (w != null) {
        if (w.first == null) {
          w.first = built;
        }
        w.counted++;
        return Future.succeededFuture(built.getId());
      }
      refusals.put(key, new Window());
    }
    RefusalKey closing = key;
    ctx.owner().setTimer(Math.max(1, refusalWindow.toMillis()), t -> closeWindow(closing));
    return send(built.toBuilder().putMetadata(COUNT, "1").build());
  }

  private void closeWindow(RefusalKey key) {
    Window w;
    synchronized (refusals) {
      w = refusals.remove(key);
    }
    if (w == null || w.counted == 0) {
      return;
    }
    send(
        w.first.toBuilder()
            .setId(ids.next())
            .setTimeUnixMs(clock.millis())
            .putMetadata(COUNT, Long.toString(w.counted))
            .putMetadata("window_ms", Long.toString(refusalWindow.toMillis()))
            .build());
  }

  private Future<String> send(AuditEvent built) {
    return append(built)
        .map(streamId -> built.getId())
        .onSuccess(id -> emitted.increment())
        .onFailure(
            e -> {
              failed.increment();
              log.atWarn()
                  .addKeyValue("action", built.getAction())
                  .addKeyValue("event_id", built.getId())
                  .log("audit event not emitted: {}", e.getMessage());
            });
  }

  /** An event waiting to be appended, and who waits for its stream entry. */
  private record Pending(Buffer body, Promise<String> done) {}

  /**
   * Queues the event; if fewer than {@value #MAX_IN_FLIGHT} appends are under way, sends what is
   * queued (up to {@value #MAX_BATCH} events) at once as one batch. Under load, events that arrive
   * while appends are under way go out together in the next batch; alone, an event goes at once.
   */
  private Future<String> append(AuditEvent built) {
    Promise<String> done = Promise.promise();
    List<Pending> batch;
    synchronized (waiting) {
      if (waiting.size() >= MAX_QUEUED) {
        return Future.failedFuture(new IllegalStateException("audit emit queue is full"));
      }
      waiting.add(new Pending(Buffer.buffer(built.toByteArray()), done));
      if (inFlight >= MAX_IN_FLIGHT) {
        return done.future();
      }
      inFlight++;
      batch = take();
    }
    appendAll(batch);
    return done.future();
  }

  /** Up to {@value #MAX_BATCH} waiting events, oldest first; guarded by {@link #waiting}. */
  private List<Pending> take() {
    List<Pending> batch = new ArrayList<>(Math.min(waiting.size(), MAX_BATCH));
    while (!waiting.isEmpty() && batch.size() < MAX_BATCH) {
      batch.add(waiting.poll());
    }
    return batch;
  }

  private void appendAll(List<Pending> batch) {
    List<Buffer> bodies = new ArrayList<>(batch.size());
    batch.forEach(p -> bodies.add(p.body()));
    ensureGroup()
        .compose(v -> bus.appendAll(INGEST_STREAM, bodies, STREAM_MAX_LENGTH))
        .onComplete(
            ar -> {
              if (ar.failed() && retryLater(batch)) {
                return;
              }
              failingSinceNanos = ar.succeeded() ? 0 : failingSinceNanos;
              for (int i = 0; i < batch.size(); i++) {
                batch
                    .get(i)
                    .done()
                    .handle(
                        ar.succeeded()
                            ? Future.succeededFuture(ar.result().get(i))
                            : Future.failedFuture(ar.cause()));
              }
              List<Pending> next;
              synchronized (waiting) {
                if (waiting.isEmpty()) {
                  inFlight--;
                  return;
                }
                next = take();
              }
              appendAll(next);
            });
  }

  /**
   * A failed append (Redis restarting, unreachable) is tried again, oldest events first, with a
   * delay growing from 50 ms to 1 s, for up to {@link #RETRY_FOR}; only then do its events fail. An
   * append that failed after Redis took some of it is stored twice: ingest keeps one per event id.
   * False when it is too late (or there is no event loop to wait on).
   */
  private boolean retryLater(List<Pending> batch) {
    Context ctx = Vertx.currentContext();
    long now = System.nanoTime();
    if (failingSinceNanos == 0) {
      failingSinceNanos = now;
      retryMs = 50;
    }
    if (ctx == null || now - failingSinceNanos > RETRY_FOR.toNanos()) {
      failingSinceNanos = 0;
      return false;
    }
    synchronized (waiting) {
      for (int i = batch.size() - 1; i >= 0; i--) {
        waiting.addFirst(batch.get(i));
      }
    }
    retried.increment();
    long delay = retryMs;
    retryMs = Math.min(1_000, retryMs * 2);
    ctx.owner()
        .setTimer(
            delay,
            t -> {
              List<Pending> next;
              synchronized (waiting) {
                next = take(); // the in-flight slot stays ours meanwhile
              }
              appendAll(next);
            });
    return true;
  }

  private Future<Void> ensureGroup() {
    Future<Void> ready = groupReady;
    if (ready == null || ready.failed()) {
      ready = bus.ensureGroup(INGEST_STREAM, INGEST_GROUP);
      groupReady = ready;
    }
    return ready;
  }
}
