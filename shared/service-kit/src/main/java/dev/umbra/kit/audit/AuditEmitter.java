package dev.umbra.kit.audit;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits audit events into the durable ingest stream. Never blocks a request and never fails
 * one: the returned future reports, and a failed append is counted and logged (without the
 * event's metadata).
 *
 * <p>Before its first append the emitter makes sure the audit consumer group exists, so an event
 * emitted while the audit service has never run (or is down) is still delivered to it later.
 * Events that break {@link AuditEventRules} are refused here (counted as rejected) rather than
 * sent: that is a bug in the emitting service, and its tests should see it.
 */
public final class AuditEmitter {
  public static final String INGEST_STREAM = "umbra.audit.ingest";
  /** The consumer group of the audit service on {@link #INGEST_STREAM}. */
  public static final String INGEST_GROUP = "audit";
  public static final long STREAM_MAX_LENGTH = 1_000_000;
  private static final Logger log = LoggerFactory.getLogger(AuditEmitter.class);

  private final Bus bus;
  private final String service;
  private final Clock clock;
  private final Ulid ids;
  private final Counter emitted;
  private final Counter failed;
  private final Counter rejected;
  private volatile Future<Void> groupReady;

  public AuditEmitter(Bus bus, String service, Clock clock, MeterRegistry registry) {
    this.bus = bus;
    this.service = service;
    this.clock = clock;
    this.ids = new Ulid(clock, new java.security.SecureRandom());
    this.emitted = Counter.builder(Metrics.name(service, "audit_emitted")).register(registry);
    this.failed = Counter.builder(Metrics.name(service, "audit_emit_failures")).register(registry);
    this.rejected = Counter.builder(Metrics.name(service, "audit_emit_rejected")).register(registry);
  }

  /** Starts a typed event; finish with an outcome and {@link AuditEventBuilder#emit()}. */
  public AuditEventBuilder event(AuditAction action) {
    return new AuditEventBuilder(this, action);
  }

  /**
   * Fills id, time, service and (when unset) a service actor, checks the event, then appends.
   * The future fails with {@link IllegalArgumentException} for an event that breaks the rules
   * and with the bus error when the append fails; it never throws.
   */
  public Future<String> emit(AuditEvent.Builder event) {
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
      return Future.failedFuture(e);
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
      return Future.failedFuture(new IllegalArgumentException("audit event refused: " + problem.get()));
    }
    return ensureGroup()
        .compose(v -> bus.append(INGEST_STREAM, Buffer.buffer(built.toByteArray()), STREAM_MAX_LENGTH))
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

  private Future<Void> ensureGroup() {
    Future<Void> ready = groupReady;
    if (ready == null || ready.failed()) {
      ready = bus.ensureGroup(INGEST_STREAM, INGEST_GROUP);
      groupReady = ready;
    }
    return ready;
  }
}
