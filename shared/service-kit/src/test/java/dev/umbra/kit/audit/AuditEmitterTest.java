package dev.umbra.kit.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.InProcessBus;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class AuditEmitterTest {
  private final PrometheusMeterRegistry registry = Metrics.newRegistry();

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void eventsEmittedBeforeTheAuditServiceEverRanAreDeliveredToItsGroup(Vertx vertx) throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    AuditEmitter emitter = new AuditEmitter(bus, "pairing", Clock.systemUTC(), registry);
    UUID ws = UUID.randomUUID();
    String id =
        await(emitter.event(AuditAction.PAIRING_CODE_REDEEMED)
            .workspace(ws)
            .actor(AuditActor.machine("m-1"))
            .target("pairing_code", "c-1")
            .success()
            .emit());
    // the audit service starts later and reads new entries of its group
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP));
    List<StreamEntry> read =
        await(bus.readGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP, "a", 10, Duration.ZERO));
    assertThat(read).hasSize(1);
    AuditEvent e = AuditEvent.parseFrom(read.get(0).body().getBytes());
    assertThat(e.getId()).isEqualTo(id).hasSize(26);
    assertThat(e.getWorkspaceId()).isEqualTo(ws.toString());
    assertThat(e.getService()).isEqualTo("pairing");
    assertThat(e.getAction()).isEqualTo("pairing.code_redeemed");
    assertThat(e.getTimeUnixMs()).isPositive();
    assertThat(AuditEventRules.problem(e)).isEmpty();
  }

  @Test
  void aRawBuilderGetsAServiceActorAndIsCheckedLikeATypedOne(Vertx vertx) throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    AuditEmitter emitter = new AuditEmitter(bus, "relay", Clock.systemUTC(), registry);
    await(emitter.emit(AuditEvent.newBuilder().setAction("relay.channel_opened").setOutcome(dev.umbra.proto.audit.Outcome.OUTCOME_SUCCESS)));
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, "check"));
    Throwable refused =
        emitter.emit(AuditEvent.newBuilder().setAction("relay.exploded").setOutcome(dev.umbra.proto.audit.Outcome.OUTCOME_SUCCESS))
            .toCompletionStage().toCompletableFuture().handle((v, e) -> e).get(10, TimeUnit.SECONDS);
    assertThat(refused).hasMessageContaining("unknown_action");
    Throwable secret =
        emitter.event(AuditAction.TOKEN_CREATED).deployment().meta("api_token", "umb_secret").success().emit()
            .toCompletionStage().toCompletableFuture().handle((v, e) -> e).get(10, TimeUnit.SECONDS);
    assertThat(secret).hasMessageContaining("forbidden_metadata_key");
    Throwable noOutcome =
        emitter.event(AuditAction.TOKEN_CREATED).deployment().emit()
            .toCompletionStage().toCompletableFuture().handle((v, e) -> e).get(10, TimeUnit.SECONDS);
    assertThat(noOutcome).hasMessageContaining("bad_outcome");
    assertThat(registry.get("umbra.relay.audit_emit_rejected").counter().count()).isEqualTo(3.0);
    // nothing refused reached the stream
    assertThat(await(bus.readGroup(AuditEmitter.INGEST_STREAM, "check", "a", 10, Duration.ZERO))).isEmpty();
    List<StreamEntry> first =
        await(bus.readGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP, "a", 10, Duration.ZERO));
    AuditEvent e = AuditEvent.parseFrom(first.get(0).body().getBytes());
    assertThat(e.getActor().getKind()).isEqualTo(ActorKind.ACTOR_KIND_SERVICE);
    assertThat(e.getActor().getId()).isEqualTo("relay");
  }

  @Test
  void aBurstLargerThanTheRedisPoolIsQueuedNotFailed(Vertx vertx) throws Exception {
    var bus = dev.umbra.kit.bus.RedisBus.create(vertx, dev.umbra.kit.testing.TestRedis.url(), dev.umbra.kit.testing.TestRedis.randomPrefix());
    AuditEmitter emitter = new AuditEmitter(bus, "webtty-engine", Clock.systemUTC(), registry);
    List<Future<String>> all = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      all.add(emitter.event(AuditAction.TERMINAL_OPENED).workspace(UUID.randomUUID()).success().emit());
    }
    await(Future.all(all));
    assertThat(registry.get("umbra.webtty_engine.audit_emitted").counter().count()).isEqualTo(3_000.0);
    assertThat(registry.get("umbra.webtty_engine.audit_emit_failures").counter().count()).isZero();
    await(bus.close());
  }
}
