package dev.umbra.audit.ingest;

import dev.umbra.audit.chain.StoredEvent;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.audit.AuditEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes the audit ingest stream as one consumer of the {@code audit} group: reads a batch, sends
 * refused entries to the dead-letter table, stores the rest per workspace (one transaction each,
 * chain serialized by the head lock), acknowledges only what was committed, then publishes each
 * newly stored event on {@code umbra.audit.<workspace_id>}. Entries left unacknowledged by a dead
 * or failing consumer are claimed after {@code claimIdle} and processed again; de-duplication by
 * event id makes that safe (at-least-once delivery, exactly-once storage).
 */
public final class IngestConsumer {
  private static final Logger log = LoggerFactory.getLogger(IngestConsumer.class);

  /** At most this many events (JSON lines) in one live message. */
  public static final int EVENTS_PER_MESSAGE = 100;

  private static final Duration BLOCK = Duration.ofMillis(500);
  private static final long MAX_BACKOFF_MS = 5_000;

  /** Batches read but not yet settled; the next read starts while earlier ones are stored. */
  public static final int MAX_BATCHES_IN_FLIGHT = 3;

  public record Settings(String consumer, int batchSize, Duration claimIdle) {}

  private final Vertx vertx;
  private final Bus bus;
  private final EventStore store;
  private final DeadLetters deadLetters;
  private final Settings settings;
  private final MeterRegistry registry;
  private final Counter stored;
  private final Counter duplicates;
  private final Counter failures;
  private final Counter published;
  private final Counter publishFailures;
  private final Timer batchTimer;
  private final Timer appendTimer;
  private volatile boolean stopped;
  private final Promise<Void> loopDone = Promise.promise();
  private long claimTimer = -1;
  private boolean claiming;
  private int backoffAttempt;
  private boolean reading;
  private int batchesInFlight;

  /** Backoff deadline on the monotonic clock (an interval, not a time of day: no Clock needed). */
  private long pausedUntilNanos = System.nanoTime();

  private boolean pauseTimerSet;
  private final Map<UUID, Future<Void>> workspaceTails = new java.util.HashMap<>();

  /** Entry ids this instance is processing now (event loop only). */
  private final java.util.Set<String> inFlight = new java.util.HashSet<>();

  public IngestConsumer(
      Vertx vertx,
      Bus bus,
      EventStore store,
      DeadLetters deadLetters,
      Settings settings,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.bus = bus;
    this.store = store;
    this.deadLetters = deadLetters;
    this.settings = settings;
    this.registry = registry;
    this.stored = Counter.builder(Metrics.name("audit", "ingest_stored")).register(registry);
    this.duplicates =
        Counter.builder(Metrics.name("audit", "ingest_duplicates")).register(registry);
    this.failures = Counter.builder(Metrics.name("audit", "ingest_failures")).register(registry);
    this.published = Counter.builder(Metrics.name("audit", "live_published")).register(registry);
    this.publishFailures =
        Counter.builder(Metrics.name("audit", "live_publish_failures")).register(registry);
    this.batchTimer = Timer.builder(Metrics.name("audit", "ingest_batch")).register(registry);
    this.appendTimer = Timer.builder(Metrics.name("audit", "ingest_append")).register(registry);
  }

  /** Starts consuming on the caller's context; the group is created when missing. */
  public Future<Void> start() {
    return bus.ensureGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP)
        .recover(
            e -> {
              log.warn(
                  "audit ingest group not ready yet ({}); retrying in the loop", e.getMessage());
              return Future.succeededFuture();
            })
        .onSuccess(
            v -> {
              long every = Math.max(200, settings.claimIdle().toMillis() / 2);
              claimTimer = vertx.setPeriodic(Math.min(every, 1_000), every, t -> claim());
              claim();
              loop();
            });
  }

  /** Stops reading; completes when the batch in flight (if any) is settled. */
  public Future<Void> stop() {
    stopped = true;
    if (claimTimer >= 0) {
      vertx.cancelTimer(claimTimer);
    }
    settleStop();
    return loopDone.future().timeout(10, TimeUnit.SECONDS).recover(e -> Future.succeededFuture());
  }

  /**
   * Reads the next batch while earlier ones are still being stored (at most {@link
   * #MAX_BATCHES_IN_FLIGHT}); appends to one workspace stay in order (see {@link #inOrder}).
   */
  private void loop() {
    if (stopped) {
      settleStop();
      return;
    }
    if (reading || batchesInFlight >= MAX_BATCHES_IN_FLIGHT) {
      return; // resumed when the read or a batch completes
    }
    long wait =
        java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(pausedUntilNanos - System.nanoTime());
    if (wait > 0) {
      if (!pauseTimerSet) {
        pauseTimerSet = true;
        vertx.setTimer(
            wait,
            t -> {
              pauseTimerSet = false;
              loop();
            });
      }
      return;
    }
    reading = true;
    bus.readGroup(
            AuditEmitter.INGEST_STREAM,
            AuditEmitter.INGEST_GROUP,
            settings.consumer(),
            settings.batchSize(),
            BLOCK)
        .onComplete(
            ar -> {
              reading = false;
              if (ar.failed()) {
                failures.increment();
                pause("audit ingest read failed", ar.cause());
                bus.ensureGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP)
                    .onComplete(x -> loop());
                return;
              }
              if (!ar.result().isEmpty()) {
                batchesInFlight++;
                process(ar.result())
                    .onComplete(
                        done -> {
                          batchesInFlight--;
                          if (done.failed()) {
                            pause("audit batch left pending", done.cause());
                          } else {
                            backoffAttempt = 0;
                          }
                          loop();
                        });
              }
              loop();
            });
  }

  private void pause(String what, Throwable cause) {
    long delay = Math.min(MAX_BACKOFF_MS, 100L << Math.min(backoffAttempt++, 6));
    pausedUntilNanos = System.nanoTime() + delay * 1_000_000;
    log.warn("{} ({}); reading again in {} ms", what, cause.getMessage(), delay);
  }

  private void settleStop() {
    if (!reading && batchesInFlight == 0) {
      loopDone.tryComplete();
    }
  }

  /** Runs {@code work} after every earlier append to the same workspace chain by this instance. */
  private Future<Void> inOrder(UUID workspace, java.util.function.Supplier<Future<Void>> work) {
    Future<Void> previous = workspaceTails.getOrDefault(workspace, Future.succeededFuture());
    Future<Void> next = previous.transform(x -> work.get());
    workspaceTails.put(workspace, next);
    next.onComplete(x -> workspaceTails.remove(workspace, next));
    return next;
  }

  /** Re-delivers entries a dead or failing consumer left unacknowledged (including our own). */
  private void claim() {
    if (stopped || claiming) {
      return;
    }
    claiming = true;
    bus.claimPending(
            AuditEmitter.INGEST_STREAM,
            AuditEmitter.INGEST_GROUP,
            settings.consumer(),
            settings.claimIdle(),
            settings.batchSize())
        .compose(
            claimed -> {
              // entries this instance is still storing are not abandoned: leave them be
              List<StreamEntry> entries =
                  claimed.stream().filter(e -> !inFlight.contains(e.id())).toList();
              if (!entries.isEmpty()) {
                log.info("claimed {} unacknowledged audit entries", entries.size());
              }
              return process(entries).map(claimed.size());
            })
        .onComplete(
            ar -> {
              claiming = false;
              if (ar.succeeded() && ar.result() == settings.batchSize()) {
                vertx.runOnContext(v -> claim()); // more may be waiting
              }
            });
  }

  /** Settles one batch; fails only when nothing could be done (the caller backs off). */
  Future<Void> process(List<StreamEntry> entries) {
    if (entries.isEmpty()) {
      return Future.succeededFuture();
    }
    Timer.Sample sample = Timer.start(registry);
    List<String> ids = entries.stream().map(StreamEntry::id).toList();
    inFlight.addAll(ids);
    List<EntryDecoder.Rejected> rejected = new ArrayList<>();
    Map<UUID, List<EntryDecoder.Valid>> byWorkspace = new LinkedHashMap<>();
    for (StreamEntry entry : entries) {
      switch (EntryDecoder.decode(entry)) {
        case EntryDecoder.Valid v ->
            byWorkspace
                .computeIfAbsent(AuditEventRules.chainOf(v.event()), k -> new ArrayList<>())
                .add(v);
        case EntryDecoder.Rejected r -> rejected.add(r);
      }
    }
    List<Future<Void>> work = new ArrayList<>();
    work.add(deadLetter(rejected));
    byWorkspace.forEach((ws, valid) -> work.add(inOrder(ws, () -> storeWorkspace(ws, valid))));
    // Fails when some part is left pending (PG or Redis trouble), so the read loop backs off.
    return Future.join(work)
        .<Void>mapEmpty()
        .onComplete(
            x -> {
              sample.stop(batchTimer);
              ids.forEach(inFlight::remove);
            });
  }

  private Future<Void> deadLetter(List<EntryDecoder.Rejected> rejected) {
    if (rejected.isEmpty()) {
      return Future.succeededFuture();
    }
    return deadLetters
        .keep(rejected)
        .compose(
            kept -> ack(rejected.stream().map(EntryDecoder.Rejected::entryId).toList()).map(kept))
        .onSuccess(
            kept ->
                rejected.stream()
                    .filter(r -> kept.contains(r.entryId()))
                    .forEach(
                        r -> {
                          registry
                              .counter(Metrics.name("audit", "dead_letters"), "reason", r.reason())
                              .increment();
                          log.atWarn()
                              .addKeyValue("entry_id", r.entryId())
                              .addKeyValue("reason", r.reason())
                              .log("audit entry sent to dead letters: {}", r.reason());
                        }))
        .<Void>mapEmpty()
        .onFailure(
            e -> {
              failures.increment();
              log.warn(
                  "audit dead letters not kept ({}); left pending for re-delivery", e.getMessage());
            });
  }

  private Future<Void> storeWorkspace(UUID workspace, List<EntryDecoder.Valid> valid) {
    List<AuditEvent> events = valid.stream().map(EntryDecoder.Valid::event).toList();
    List<String> entryIds = valid.stream().map(EntryDecoder.Valid::entryId).toList();
    Timer.Sample appendSample = Timer.start(registry);
    return store
        .append(workspace, events)
        .onComplete(x -> appendSample.stop(appendTimer))
        .compose(
            fresh -> {
              stored.increment(fresh.size());
              duplicates.increment(events.size() - fresh.size());
              return ack(entryIds).onSuccess(v -> publish(workspace, fresh));
            })
        .recover(
            e -> {
              failures.increment();
              if (refusedByDatabase(e) && valid.size() > 1) {
                // One bad value fails the whole batch: store one by one to isolate it.
                log.warn(
                    "audit batch for a workspace refused by PostgreSQL ({}); isolating",
                    sqlState(e));
                Future<Void> chain = Future.succeededFuture();
                for (EntryDecoder.Valid v : valid) {
                  chain = chain.compose(x -> storeWorkspace(workspace, List.of(v)));
                }
                return chain;
              }
              if (refusedByDatabase(e)) {
                EntryDecoder.Valid v = valid.get(0);
                return deadLetter(
                    List.of(
                        new EntryDecoder.Rejected(
                            v.entryId(),
                            "refused_by_database",
                            v.event().toByteArray(),
                            v.event().getSerializedSize())));
              }
              log.warn("audit batch not stored ({}); left pending for re-delivery", e.getMessage());
              return Future.failedFuture(e);
            });
  }

  private static boolean refusedByDatabase(Throwable e) {
    String state = sqlState(e);
    return state != null && (state.startsWith("22") || state.startsWith("54"));
  }

  private static String sqlState(Throwable e) {
    return e instanceof PgException pg ? pg.getSqlState() : null;
  }

  private Future<Void> ack(List<String> ids) {
    return bus.ack(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP, ids).mapEmpty();
  }

  /**
   * One PUBLISH per {@link #EVENTS_PER_MESSAGE} events: a message is one or more events as JSON
   * lines, in chain order (a PUBLISH per event would cost more than storing it).
   */
  private void publish(UUID workspace, List<StoredEvent> fresh) {
    String channel = BusNames.AUDIT_LIVE_PREFIX + workspace;
    for (int start = 0; start < fresh.size(); start += EVENTS_PER_MESSAGE) {
      List<StoredEvent> part =
          fresh.subList(start, Math.min(fresh.size(), start + EVENTS_PER_MESSAGE));
      StringBuilder lines = new StringBuilder(part.size() * 512);
      for (StoredEvent s : part) {
        lines.append(s.toJson().encode()).append('\n');
      }
      bus.publish(channel, Buffer.buffer(lines.toString()))
          .onSuccess(n -> published.increment(part.size()))
          .onFailure(e -> publishFailures.increment(part.size()));
    }
  }
}
