package dev.umbra.kit.audit;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.audit.AuditEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Emits audit events into the durable ingest stream. Never blocks a request and never fails
 * one: a failed append is counted and logged (without the event's metadata).
 */
public final class AuditEmitter {
  public static final String INGEST_STREAM = "umbra.audit.ingest";
  public static final long STREAM_MAX_LENGTH = 1_000_000;
  private static final Logger log = LoggerFactory.getLogger(AuditEmitter.class);

  private final Bus bus;
  private final String service;
  private final Clock clock;
  private final Ulid ids;
  private final Counter emitted;
  private final Counter failed;

  public AuditEmitter(Bus bus, String service, Clock clock, MeterRegistry registry) {
    this.bus = bus;
    this.service = service;
    this.clock = clock;
    this.ids = new Ulid(clock, new java.security.SecureRandom());
    this.emitted = Counter.builder(Metrics.name(service, "audit_emitted")).register(registry);
    this.failed = Counter.builder(Metrics.name(service, "audit_emit_failures")).register(registry);
  }

  /** Fills id, time and service when unset, then appends; the future reports but never throws. */
  public Future<String> emit(AuditEvent.Builder event) {
    if (event.getId().isEmpty()) {
      event.setId(ids.next());
    }
    if (event.getTimeUnixMs() == 0) {
      event.setTimeUnixMs(clock.millis());
    }
    if (event.getService().isEmpty()) {
      event.setService(service);
    }
    AuditEvent built = event.build();
    return bus.append(INGEST_STREAM, Buffer.buffer(built.toByteArray()), STREAM_MAX_LENGTH)
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
}
