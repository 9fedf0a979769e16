package dev.umbra.kit.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
  void eventsEmittedBeforeTheAuditServiceEverRanAreDeliveredToItsGroup(Vertx vertx)
      throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    AuditEmitter emitter = new AuditEmitter(bus, "pairing", Clock.systemUTC(), registry);
    UUID ws = UUID.randomUUID();
    String id =
        await(
            emitter
                .event(AuditAction.PAIRING_CODE_REDEEMED)
                .workspace(ws)
                .actor(AuditActor.machine("m-1"))
                .target("pairing_code", "c-1")
                .success()
                .emit());
    // the audit service starts later and reads new entries of its group
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP));
    List<StreamEntry> read =
        await(
            bus.readGroup(
                AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP, "a", 10, Duration.ZERO));
    assertThat(read).hasSize(1);
    AuditEvent e = AuditEvent.parseFrom(read.get(0).body().getBytes());
    assertThat(e.getId()).isEqualTo(id).hasSize(26);
    assertThat(e.getWorkspaceId()).isEqualTo(ws.toString());
    assertThat(e.getService()).isEqualTo("pairing");
    assertThat(e.getAction()).isEqualTo("pairing.code_redeemed");
    assertThat(e.getTimeUnixMs()).isPositive();
    assertThat(AuditEventRules.problem(e)).isEmpty();
  }

  /**
   * A Redis restart (the chaos suite, docs/chaos.md): the appends fail for a while; the events are
   * appended once Redis is back, in order, and none is reported failed.
   */
  @Test
  void eventsEmittedWhileRedisIsRestartingAreAppendedOnceItIsBack(Vertx vertx) throws Exception {
    InProcessBus real = new InProcessBus(vertx);
    java.util.concurrent.atomic.AtomicInteger down =
        new java.util.concurrent.atomic.AtomicInteger(5);
    dev.umbra.kit.bus.Bus flaky =
        (dev.umbra.kit.bus.Bus)
            java.lang.reflect.Proxy.newProxyInstance(
                dev.umbra.kit.bus.Bus.class.getClassLoader(),
                new Class<?>[] {dev.umbra.kit.bus.Bus.class},
                (proxy, method, args) -> {
                  if ((method.getName().equals("appendAll")
                          || method.getName().equals("ensureGroup"))
                      && down.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    return Future.failedFuture("connection refused (Redis restarting)");
                  }
                  try {
                    return method.invoke(real, args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    AuditEmitter emitter = new AuditEmitter(flaky, "relay", Clock.systemUTC(), registry);
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String target = "c-" + i;
      ids.add(
          await(
              vertx
                  .<Future<String>>executeBlocking(
                      () ->
                          emitter
                              .event(AuditAction.RELAY_CHANNEL_OPENED)
                              .workspace(UUID.randomUUID())
                              .actor(AuditActor.machine("m-1"))
                              .target("channel", target)
                              .success()
                              .emit(),
                      false)
                  .compose(f -> f)));
    }
    List<StreamEntry> stored = await(real.range(AuditEmitter.INGEST_STREAM, "0-0", 100));
    List<String> storedIds = new java.util.ArrayList<>();
    for (StreamEntry e : stored) {
      storedIds.add(AuditEvent.parseFrom(e.body().getBytes()).getId());
    }
    assertThat(storedIds).containsExactlyElementsOf(ids);
    assertThat(registry.get("umbra.relay.audit_emit_failures").counter().count()).isZero();
    assertThat(registry.get("umbra.relay.audit_emit_retries").counter().count()).isPositive();
  }

  @Test
  void aRawBuilderGetsAServiceActorAndIsCheckedLikeATypedOne(Vertx vertx) throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    AuditEmitter emitter = new AuditEmitter(bus, "relay", Clock.systemUTC(), registry);
    await(
        emitter.emit(
            AuditEvent.newBuilder()
                .setAction("relay.channel_opened")
                .setOutcome(dev.umbra.proto.audit.Outcome.OUTCOME_SUCCESS)));
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, "check"));
    Throwable refused =
        failureOf(
            emitter.emit(
                AuditEvent.newBuilder()
                    .setAction("relay.exploded")
                    .setOutcome(dev.umbra.proto.audit.Outcome.OUTCOME_SUCCESS)));
    assertThat(refused).hasMessageContaining("unknown_action");
    Throwable secret =
        failureOf(
            emitter
                .event(AuditAction.TOKEN_CREATED)
                .deployment()
                .meta("api_token", "umb_secret")
                .success()
                .emit());
    assertThat(secret).hasMessageContaining("forbidden_metadata_key");
    Throwable noOutcome = failureOf(emitter.event(AuditAction.TOKEN_CREATED).deployment().emit());
    assertThat(noOutcome).hasMessageContaining("bad_outcome");
    assertThat(registry.get("umbra.relay.audit_emit_rejected").counter().count()).isEqualTo(3.0);
    // nothing refused reached the stream
    assertThat(await(bus.readGroup(AuditEmitter.INGEST_STREAM, "check", "a", 10, Duration.ZERO)))
        .isEmpty();
    List<StreamEntry> first =
        await(
            bus.readGroup(
                AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP, "a", 10, Duration.ZERO));
    AuditEvent e = AuditEvent.parseFrom(first.get(0).body().getBytes());
    assertThat(e.getActor().getKind()).isEqualTo(ActorKind.ACTOR_KIND_SERVICE);
    assertThat(e.getActor().getId()).isEqualTo("relay");
  }

  @Test
  void aPreparedEventKeepsItsIdWhenAppendedLaterAndABrokenOneIsRefusedAtOnce(Vertx vertx)
      throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    AuditEmitter emitter = new AuditEmitter(bus, "control-plane", Clock.systemUTC(), registry);
    AuditEvent prepared =
        emitter
            .event(AuditAction.AGENT_MESSAGE_SENT)
            .workspace(java.util.UUID.randomUUID())
            .target("message", java.util.UUID.randomUUID())
            .success()
            .prepare();
    assertThat(prepared.getId()).isNotEmpty();
    assertThat(prepared.getService()).isEqualTo("control-plane");
    // nothing is appended by preparing
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, "check"));
    assertThat(await(bus.readGroup(AuditEmitter.INGEST_STREAM, "check", "a", 10, Duration.ZERO)))
        .isEmpty();
    assertThat(await(emitter.emitPrepared(prepared))).isEqualTo(prepared.getId());
    List<StreamEntry> got =
        await(bus.readGroup(AuditEmitter.INGEST_STREAM, "check", "a", 10, Duration.ZERO));
    assertThat(got).hasSize(1);
    assertThat(AuditEvent.parseFrom(got.get(0).body().getBytes())).isEqualTo(prepared);

    assertThatThrownBy(
            () ->
                emitter
                    .event(AuditAction.TOKEN_CREATED)
                    .deployment()
                    .meta("api_token", "umb_secret")
                    .success()
                    .prepare())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("forbidden_metadata_key");
    // an event changed after it was prepared is checked again, and one without its id refused
    Throwable changed =
        failureOf(
            emitter.emitPrepared(
                prepared.toBuilder().putMetadata("api_token", "umb_secret").build()));
    assertThat(changed).hasMessageContaining("forbidden_metadata_key");
    Throwable noId = failureOf(emitter.emitPrepared(prepared.toBuilder().setId("").build()));
    assertThat(noId).hasMessageContaining("id");
    assertThat(await(bus.readGroup(AuditEmitter.INGEST_STREAM, "check", "a", 10, Duration.ZERO)))
        .isEmpty();
  }

  /** What {@code f} failed with (null if it succeeded), within 10 s. */
  static Throwable failureOf(io.vertx.core.Future<?> f) throws Exception {
    return f.toCompletionStage()
        .toCompletableFuture()
        .handle((v, e) -> e)
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void aBurstLargerThanTheRedisPoolIsQueuedNotFailed(Vertx vertx) throws Exception {
    var bus =
        dev.umbra.kit.bus.RedisBus.create(
            vertx,
            dev.umbra.kit.testing.TestRedis.url(),
            dev.umbra.kit.testing.TestRedis.randomPrefix());
    AuditEmitter emitter = new AuditEmitter(bus, "webtty-engine", Clock.systemUTC(), registry);
    List<Future<String>> all = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      all.add(
          emitter.event(AuditAction.TERMINAL_OPENED).workspace(UUID.randomUUID()).success().emit());
    }
    await(Future.all(all));
    assertThat(registry.get("umbra.webtty_engine.audit_emitted").counter().count())
        .isEqualTo(3_000.0);
    assertThat(registry.get("umbra.webtty_engine.audit_emit_failures").counter().count()).isZero();
    await(bus.close());
  }

  @Test
  void aBurstGoesOutInBatchesYetEveryEventIsItsOwnStreamEntryOnce(Vertx vertx) throws Exception {
    var bus =
        dev.umbra.kit.bus.RedisBus.create(
            vertx,
            dev.umbra.kit.testing.TestRedis.url(),
            dev.umbra.kit.testing.TestRedis.randomPrefix());
    AuditEmitter emitter = new AuditEmitter(bus, "webtty-engine", Clock.systemUTC(), registry);
    int n = AuditEmitter.MAX_IN_FLIGHT * AuditEmitter.MAX_BATCH + 77;
    List<Future<String>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(
          emitter.event(AuditAction.TERMINAL_OPENED).workspace(UUID.randomUUID()).success().emit());
    }
    await(Future.all(all));
    java.util.Set<String> emitted = new java.util.HashSet<>();
    all.forEach(f -> emitted.add(f.result()));
    assertThat(emitted).hasSize(n);
    List<String> stored = new ArrayList<>();
    String after = "0-0";
    while (true) {
      List<StreamEntry> page = await(bus.range(AuditEmitter.INGEST_STREAM, after, 1000));
      if (page.isEmpty()) {
        break;
      }
      for (StreamEntry en : page) {
        stored.add(AuditEvent.parseFrom(en.body().getBytes()).getId());
        after = en.id();
      }
    }
    assertThat(stored).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(emitted);
    await(bus.close());
  }

  /** Runs {@code work} on an event-loop context, as a service's handlers do, and waits for it. */
  private static <T> T onContext(Vertx vertx, java.util.concurrent.Callable<Future<T>> work)
      throws Exception {
    io.vertx.core.Promise<T> done = io.vertx.core.Promise.promise();
    vertx.runOnContext(
        v -> {
          try {
            work.call().onComplete(done);
          } catch (Exception e) {
            done.fail(e);
          }
        });
    return await(done.future());
  }

  /**
   * Every event read until the counts of {@code action} reach {@code atLeastCount} (and a little
   * after).
   */
  private static List<AuditEvent> readAll(InProcessBus bus, int atLeastCount, String action)
      throws Exception {
    List<AuditEvent> out = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 15_000;
    long sum = 0;
    boolean last = false;
    while (!last && System.currentTimeMillis() < deadline) {
      last = sum >= atLeastCount;
      for (StreamEntry en :
          await(
              bus.readGroup(
                  AuditEmitter.INGEST_STREAM,
                  AuditEmitter.INGEST_GROUP,
                  "a",
                  1000,
                  Duration.ofMillis(200)))) {
        AuditEvent e = AuditEvent.parseFrom(en.body().getBytes());
        out.add(e);
        if (e.getAction().equals(action)) {
          sum += Long.parseLong(e.getMetadataOrThrow(AuditEmitter.COUNT));
        }
      }
    }
    return out;
  }

  private static List<AuditEvent> only(List<AuditEvent> events, String action) {
    return events.stream().filter(e -> e.getAction().equals(action)).toList();
  }

  @Test
  void aFloodOfRefusalsBecomesAFewEventsWhoseCountsAddUpToTheAttempts(Vertx vertx)
      throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP));
    AuditEmitter emitter =
        new AuditEmitter(bus, "relay", Clock.systemUTC(), registry, Duration.ofMillis(500));
    UUID ws = UUID.randomUUID();
    onContext(
        vertx,
        () -> {
          List<Future<String>> all = new ArrayList<>();
          for (int i = 0; i < 2_000; i++) {
            all.add(
                emitter
                    .event(AuditAction.RELAY_CHANNEL_REFUSED)
                    .workspace(ws)
                    .actor(AuditActor.member("mallory"))
                    .target("machine", "nobody-" + i)
                    .sourceIp("203.0.113.9")
                    .denied("unknown_target")
                    .emit());
          }
          return Future.all(all);
        });
    List<AuditEvent> events =
        only(readAll(bus, 2_000, "relay.channel_refused"), "relay.channel_refused");
    assertThat(events).hasSizeBetween(2, 5);
    assertThat(
            events.stream()
                .mapToLong(e -> Long.parseLong(e.getMetadataOrThrow(AuditEmitter.COUNT)))
                .sum())
        .isEqualTo(2_000);
    assertThat(events.get(0).getTarget()).isEqualTo("machine:nobody-0");
    assertThat(events)
        .allSatisfy(
            e -> {
              assertThat(e.getWorkspaceId()).isEqualTo(ws.toString());
              assertThat(e.getMetadataMap()).containsEntry("reason", "unknown_target");
              assertThat(AuditEventRules.problem(e)).isEmpty();
            });
  }

  @Test
  void refusalsForOtherReasonsOrSourcesAreCountedApartAndSuccessesAreNeverAggregated(Vertx vertx)
      throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP));
    AuditEmitter emitter =
        new AuditEmitter(bus, "relay", Clock.systemUTC(), registry, Duration.ofMillis(300));
    UUID ws = UUID.randomUUID();
    onContext(
        vertx,
        () -> {
          List<Future<String>> all = new ArrayList<>();
          for (int i = 0; i < 30; i++) {
            all.add(
                emitter
                    .event(AuditAction.RELAY_CHANNEL_REFUSED)
                    .workspace(ws)
                    .actor(AuditActor.member("m"))
                    .sourceIp("198.51.100." + (i % 3))
                    .denied(i % 2 == 0 ? "unknown_target" : "role")
                    .emit());
            all.add(
                emitter
                    .event(AuditAction.RELAY_CHANNEL_OPENED)
                    .workspace(ws)
                    .actor(AuditActor.member("m"))
                    .success()
                    .emit());
          }
          return Future.all(all);
        });
    List<AuditEvent> all = readAll(bus, 30, "relay.channel_refused");
    List<AuditEvent> refused = only(all, "relay.channel_refused");
    // 3 sources x 2 reasons: each key's first at once, then one summary of the other 4
    assertThat(refused).hasSize(12);
    assertThat(
            refused.stream()
                .mapToLong(e -> Long.parseLong(e.getMetadataOrThrow(AuditEmitter.COUNT)))
                .sum())
        .isEqualTo(30);
    assertThat(only(all, "relay.channel_opened"))
        .hasSize(30)
        .allSatisfy(e -> assertThat(e.getMetadataMap()).doesNotContainKey(AuditEmitter.COUNT));
  }

  @Test
  void aMachinesWorkflowRefusalsAreEachWrittenWithTheWorkflowTheyName(Vertx vertx)
      throws Exception {
    InProcessBus bus = new InProcessBus(vertx);
    await(bus.ensureGroup(AuditEmitter.INGEST_STREAM, AuditEmitter.INGEST_GROUP));
    AuditEmitter emitter =
        new AuditEmitter(bus, "control-plane", Clock.systemUTC(), registry, Duration.ofSeconds(30));
    UUID ws = UUID.randomUUID();
    onContext(
        vertx,
        () -> {
          List<Future<String>> all = new ArrayList<>();
          for (int i = 0; i < 5; i++) {
            all.add(
                emitter
                    .event(AuditAction.WORKFLOW_REFUSED)
                    .workspace(ws)
                    .actor(AuditActor.machine("m1"))
                    .target("machine", "m1")
                    .meta("workflow", "w" + i)
                    .failure("bad_signature")
                    .emit());
          }
          return Future.all(all);
        });
    List<AuditEvent> refused = only(readAll(bus, 0, "none"), "workflow.refused");
    assertThat(refused)
        .extracting(e -> e.getMetadataOrThrow("workflow"))
        .containsExactlyInAnyOrder("w0", "w1", "w2", "w3", "w4");
    assertThat(refused)
        .allSatisfy(e -> assertThat(e.getMetadataMap()).doesNotContainKey(AuditEmitter.COUNT));
  }
}
