package dev.umbra.kit.revocation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.auth.RevokedSessionException;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.auth.TestSessionTokens;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The kit's one revocation subscriber against the real Redis: what each kind voids, that a list
 * started after a revocation (or that missed it on pub/sub) still has it, that bad messages are
 * dropped, logged and counted, and that it fails closed.
 */
@ExtendWith(VertxExtension.class)
class RevocationListTest {
  static final UUID WS = UUID.randomUUID();
  Vertx vertx;
  Bus bus;
  Bus publisherBus;
  MovableClock clock;
  final java.util.concurrent.atomic.AtomicLong ticks = new java.util.concurrent.atomic.AtomicLong();
  PrometheusMeterRegistry registry;
  RevocationList list;

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    String prefix = TestRedis.randomPrefix();
    bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    publisherBus = RedisBus.create(vertx, TestRedis.url(), prefix);
    clock = new MovableClock(Instant.now());
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    list =
        new RevocationList(
            vertx, bus, clock, () -> System.nanoTime() + ticks.get(), registry, "test");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(list.stop());
    await(bus.close());
    await(publisherBus.close());
  }

  static SessionClaims member(
      String account, Instant issued, String apiToken, String device, int ksv) {
    return new SessionClaims(
        WS,
        account,
        SubjectKind.MEMBER,
        Role.MEMBER,
        "relay",
        UUID.randomUUID().toString(),
        issued,
        issued.plus(SessionTokens.MAX_TTL),
        Optional.ofNullable(apiToken),
        Optional.ofNullable(device),
        ksv);
  }

  static SessionClaims machine(String id, Instant issued) {
    return subject(SubjectKind.MACHINE, id, issued);
  }

  static SessionClaims agent(String id, Instant issued) {
    return subject(SubjectKind.AGENT, id, issued);
  }

  static SessionClaims subject(SubjectKind kind, String id, Instant issued) {
    return new SessionClaims(
        WS,
        id,
        kind,
        Role.MACHINE,
        "relay",
        UUID.randomUUID().toString(),
        issued,
        issued.plus(SessionTokens.MAX_TTL),
        Optional.empty(),
        Optional.empty(),
        0);
  }

  void publish(RevokedKind kind, String subject, String account, Instant at) throws Exception {
    await(
        new RevocationPublisher(vertx, publisherBus)
            .publish(Revoked.message(kind, WS, subject, account, at)));
  }

  @Test
  void eachKindVoidsTheSessionsItNamesAndNoOthers() throws Exception {
    await(list.start());
    Instant issued = clock.instant().minusSeconds(5);
    SessionClaims byToken = member("acct-1", issued, "tok-1", null, 0);
    SessionClaims otherToken = member("acct-1", issued, "tok-2", null, 0);
    SessionClaims removed = member("acct-2", issued, "tok-3", null, 0);
    SessionClaims box = machine("machine-1", issued);
    SessionClaims onDevice = member("acct-4", issued, "tok-4", "device-1", 3);
    SessionClaims onOldCredential = member("acct-5", issued, "tok-5", "device-2", 1);
    SessionClaims onCurrentCredential = member("acct-5", issued, "tok-5", "device-3", 2);
    SessionClaims unbound = member("acct-6", issued, "tok-6", null, 0);
    SessionClaims revokedAgent = agent("agent-1", issued);
    SessionClaims otherAgent = agent("agent-2", issued);
    SessionClaims machineNamedLikeAgent = machine("agent-1", issued);
    Instant now = clock.instant();
    publish(RevokedKind.REVOKED_KIND_TOKEN, "tok-1", "acct-1", now);
    publish(RevokedKind.REVOKED_KIND_MEMBER, "member-row-id", "acct-2", now);
    publish(RevokedKind.REVOKED_KIND_MACHINE, "machine-1", null, now);
    publish(RevokedKind.REVOKED_KIND_DEVICE, "device-1", "acct-4", now);
    publish(RevokedKind.REVOKED_KIND_KEYSET_VERSION, "2", null, now);
    publish(RevokedKind.REVOKED_KIND_AGENT, "agent-1", "acct-1", now);
    waitUntil(() -> list.size() == 6);
    assertThat(list.isRevoked(revokedAgent)).isTrue();
    assertThat(list.isRevoked(otherAgent)).isFalse();
    assertThat(list.isRevoked(machineNamedLikeAgent))
        .as("an agent revocation names agents")
        .isFalse();
    assertThat(list.isRevoked(byToken)).isTrue();
    assertThat(list.isRevoked(removed)).isTrue();
    assertThat(list.isRevoked(box)).isTrue();
    assertThat(list.isRevoked(onDevice)).isTrue();
    assertThat(list.isRevoked(onOldCredential)).isTrue();
    assertThat(list.isRevoked(otherToken)).isFalse();
    assertThat(list.isRevoked(onCurrentCredential)).isFalse();
    assertThat(list.isRevoked(unbound))
        .as("a keyset rotation voids only device-bound sessions")
        .isFalse();
    SessionClaims elsewhere =
        new SessionClaims(
            UUID.randomUUID(),
            "acct-2",
            SubjectKind.MEMBER,
            Role.MEMBER,
            "relay",
            "j",
            issued,
            issued.plusSeconds(600),
            Optional.of("tok-3"),
            Optional.empty(),
            0);
    assertThat(list.isRevoked(elsewhere)).as("another workspace").isFalse();
  }

  @Test
  void aRotationRefusesOlderCredentialsSessionsForAnythingNewButEndsNoLiveConnection() {
    Instant now = clock.instant();
    SessionClaims keptDevice = member("acct-7", now.minusSeconds(5), "tok-7", "device-kept", 1);
    Revoked rotation = new Revoked(RevokedKind.REVOKED_KIND_KEYSET_VERSION, WS, "2", now);
    Revoked device = new Revoked(RevokedKind.REVOKED_KIND_DEVICE, WS, "device-kept", now);
    // the rotation re-credentialed the device: its old session opens nothing new, its live
    // connection stays
    assertThat(rotation.voids(keptDevice)).isTrue();
    assertThat(rotation.endsLive(keptDevice)).isFalse();
    // a revoked device is ended by its own revocation, live connections included
    assertThat(device.voids(keptDevice)).isTrue();
    assertThat(device.endsLive(keptDevice)).isTrue();
    // every other kind ends exactly what it voids
    SessionClaims byToken = member("acct-8", now.minusSeconds(5), "tok-8", null, 0);
    assertThat(new Revoked(RevokedKind.REVOKED_KIND_TOKEN, WS, "tok-8", now).endsLive(byToken))
        .isTrue();
    assertThat(new Revoked(RevokedKind.REVOKED_KIND_MEMBER, WS, "acct-8", now).endsLive(byToken))
        .isTrue();
    assertThat(new Revoked(RevokedKind.REVOKED_KIND_TOKEN, WS, "tok-9", now).endsLive(byToken))
        .isFalse();
  }

  @Test
  void aMemberAddedAgainAfterRemovalGetsSessionsThatWork() throws Exception {
    await(list.start());
    Instant removal = clock.instant();
    publish(RevokedKind.REVOKED_KIND_MEMBER, "member-row-id", "acct-back", removal);
    waitUntil(() -> list.size() == 1);
    assertThat(list.isRevoked(member("acct-back", removal.minusSeconds(1), "t", null, 0))).isTrue();
    assertThat(list.isRevoked(member("acct-back", removal.plusSeconds(2), "t", null, 0))).isFalse();
  }

  @Test
  void anInstanceStartedAfterTheRevocationStillRefusesTheToken() throws Exception {
    publish(RevokedKind.REVOKED_KIND_TOKEN, "tok-early", "acct", clock.instant());
    await(list.start());
    assertThat(
            list.isRevoked(member("acct", clock.instant().minusSeconds(1), "tok-early", null, 0)))
        .isTrue();
  }

  @Test
  void aRevocationMissedOnPubSubArrivesThroughTheLogWithinTwoSeconds() throws Exception {
    await(list.start());
    Revocation r =
        Revoked.message(RevokedKind.REVOKED_KIND_MACHINE, WS, "lost-box", null, clock.instant());
    await(
        publisherBus.append(
            RevocationChannel.LOG, Buffer.buffer(r.toByteArray()), 100)); // never published
    long t0 = System.nanoTime();
    waitUntil(() -> list.isRevoked(machine("lost-box", clock.instant().minusSeconds(1))));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void revocationsOlderThanEveryTokenTheyCouldVoidAreForgotten() throws Exception {
    publish(
        RevokedKind.REVOKED_KIND_TOKEN,
        "tok-old",
        "acct",
        clock.instant().minus(RevocationList.KEEP).minusSeconds(1));
    await(list.start());
    assertThat(list.size()).isZero();
  }

  @Test
  void unknownKindMalformedAndIncompleteMessagesAreDroppedAndCounted() throws Exception {
    await(list.start());
    List<byte[]> bad =
        List.of(
            new byte[] {(byte) 0xff, 0x01, 0x02},
            Revocation.newBuilder()
                .setWorkspaceId(WS.toString())
                .setKindValue(42)
                .setSubjectId("x")
                .setTimeUnixMs(clock.millis())
                .build()
                .toByteArray(),
            Revocation.newBuilder()
                .setKind(RevokedKind.REVOKED_KIND_TOKEN)
                .setSubjectId("tok")
                .setTimeUnixMs(clock.millis())
                .build()
                .toByteArray(),
            Revocation.newBuilder()
                .setWorkspaceId(WS.toString())
                .setKind(RevokedKind.REVOKED_KIND_MEMBER)
                .setSubjectId("member-id")
                .setTimeUnixMs(clock.millis())
                .build()
                .toByteArray(),
            Revocation.newBuilder()
                .setWorkspaceId(WS.toString())
                .setKind(RevokedKind.REVOKED_KIND_KEYSET_VERSION)
                .setSubjectId("two")
                .setTimeUnixMs(clock.millis())
                .build()
                .toByteArray());
    for (byte[] b : bad) {
      await(publisherBus.publish(RevocationChannel.CHANNEL, Buffer.buffer(b)));
    }
    waitUntil(
        () ->
            dropped("malformed") == 2
                && dropped("unknown_kind") == 1
                && dropped("missing_workspace") == 1
                && dropped("missing_account") == 1);
    assertThat(list.size()).isZero();
  }

  @Test
  void failsClosedBeforeTheLogWasReadAndWhenItCannotBeReadAnyMore() throws Exception {
    SessionClaims anyone = member("acct", clock.instant(), "tok", null, 0);
    assertThat(list.isRevoked(anyone)).as("not started").isTrue();
    await(list.start());
    assertThat(list.isRevoked(anyone)).isFalse();
    clock.advance(Duration.ofMinutes(5));
    assertThat(list.isRevoked(member("acct", clock.instant(), "tok", null, 0)))
        .as("a wall-clock jump is not staleness")
        .isFalse();
    await(list.stop()); // no more polls: as if Redis were unreachable
    ticks.addAndGet(RevocationList.STALE_AFTER.plusSeconds(1).toNanos());
    assertThat(list.isRevoked(anyone)).isTrue();
  }

  @Test
  void aListThatCannotReadTheLogStartsButRefusesEveryToken() throws Exception {
    Bus down =
        RedisBus.create(
            vertx, java.net.URI.create("redis://127.0.0.1:1"), TestRedis.randomPrefix());
    RevocationList blind = new RevocationList(vertx, down, clock, registry, "test-down");
    await(blind.start()); // the service still starts, so its /healthz can report the bus down
    assertThat(blind.current()).isFalse();
    assertThat(blind.isRevoked(member("acct", clock.instant(), "tok", null, 0))).isTrue();
    await(blind.stop());
    await(down.close().recover(e -> Future.succeededFuture()));
  }

  @Test
  void listenersHearEachRevocationOnceOnTheStartingContext() throws Exception {
    List<Revoked> heard = new CopyOnWriteArrayList<>();
    List<Boolean> onContext = new CopyOnWriteArrayList<>();
    Context[] starter = new Context[1];
    java.util.concurrent.CompletableFuture<Void> started =
        new java.util.concurrent.CompletableFuture<>();
    Context ctx = vertx.getOrCreateContext();
    ctx.runOnContext(
        v -> {
          starter[0] = Vertx.currentContext();
          list.onRevoked(
              r -> {
                heard.add(r);
                onContext.add(Vertx.currentContext() == starter[0]);
              });
          list.start().onComplete(ar -> started.complete(null));
        });
    started.get(10, TimeUnit.SECONDS);
    Buffer msg =
        Buffer.buffer(
            Revoked.message(
                    RevokedKind.REVOKED_KIND_DEVICE, WS, "device-9", "acct", clock.instant())
                .toByteArray());
    await(publisherBus.publish(RevocationChannel.CHANNEL, msg));
    waitUntil(() -> heard.size() == 1);
    String id = await(publisherBus.append(RevocationChannel.LOG, msg, 100));
    waitUntil(() -> id.equals(list.logPosition())); // the log delivered it too
    assertThat(heard)
        .hasSize(1)
        .allMatch(
            x -> x.kind() == RevokedKind.REVOKED_KIND_DEVICE && x.subject().equals("device-9"));
    assertThat(onContext).containsOnly(true);
  }

  @Test
  void aVerifierGivenTheListRefusesRevokedTokens() throws Exception {
    await(list.start());
    TestSessionTokens tokens = new TestSessionTokens();
    SessionVerifier verifier =
        new SessionVerifier(
                null, java.net.URI.create("http://127.0.0.1:1/jwks"), "relay", Clock.systemUTC())
            .checkRevocations(list);
    verifier.useKeys(tokens.keyMap());
    String token =
        tokens.sign(
            b ->
                b.audience("relay")
                    .subject("acct-v")
                    .issueTime(java.util.Date.from(Instant.now().minusSeconds(5)))
                    .expirationTime(java.util.Date.from(Instant.now().plusSeconds(300)))
                    .claim(SessionTokens.CLAIM_WORKSPACE, WS.toString())
                    .claim(SessionTokens.CLAIM_SUBJECT_KIND, "member")
                    .claim(SessionTokens.CLAIM_ROLE, "member")
                    .claim(SessionTokens.CLAIM_API_TOKEN, "tok-v"));
    assertThat(await(verifier.verify(token)).apiTokenId()).contains("tok-v");
    publish(RevokedKind.REVOKED_KIND_TOKEN, "tok-v", "acct-v", clock.instant());
    waitUntil(() -> list.size() == 1);
    assertThatThrownBy(() -> await(verifier.verify(token)))
        .hasCauseInstanceOf(RevokedSessionException.class);
  }

  private double dropped(String reason) {
    var c = registry.find("umbra.test.revocations_dropped").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static void waitUntil(BooleanSupplier ok) {
    Eventually.await("condition", Duration.ofSeconds(5), ok::getAsBoolean);
  }

  /** A clock a test moves by hand. */
  static final class MovableClock extends Clock {
    private volatile Instant now;

    MovableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
