package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.bus.SealedNotices;
import dev.umbra.kit.bus.SealedNotices.Refusal;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.routing.Switchboard;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestTokens;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Takeover notices on the bus are sealed under the instances' internal credential (docs/relay.md,
 * "Takeover notices"): whoever publishes on Redis without it cannot knock a live daemon off its
 * instance. Two instances sharing one home (so one credential file), a third-party publisher on the
 * same bus prefix.
 */
class RelayTakeoverNoticesTest {
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  @TempDir static Path home;
  private static final long CHANNEL = 77;
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  private final UUID ws = UUID.randomUUID();
  private final String machine = "m-" + UUID.randomUUID();
  private RelayCluster cluster;
  private Instance a;
  private Instance b;
  private RedisBus forger;
  private RawPeer daemon;
  private RawPeer client;

  /** A daemon on a, and a client on b with a channel open to it. */
  @BeforeEach
  void daemonOnOneInstanceClientOnTheOther() {
    cluster = fixture.two(home, Map.of());
    a = cluster.instance(0);
    b = cluster.instance(1);
    forger = RedisBus.create(vertx, TestRedis.url(), cluster.busPrefix());
    daemon = RawPeer.open(vertx, a.url(), tokens.machine(ws, machine));
    daemon.send(frame(FrameType.FRAME_TYPE_REGISTER, 0));
    assertThat(daemon.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);
    client = RawPeer.open(vertx, b.url(), tokens.member(ws, "acct-" + UUID.randomUUID()));
    client.send(frame(FrameType.FRAME_TYPE_OPEN, 0));
    assertThat(daemon.next(FrameType.FRAME_TYPE_OPEN).getChannelId()).isEqualTo(CHANNEL);
    daemon.send(frame(FrameType.FRAME_TYPE_ACCEPT, 0));
    assertThat(client.next(FrameType.FRAME_TYPE_ACCEPT).getChannelId()).isEqualTo(CHANNEL);
  }

  @AfterEach
  void stop() {
    client.close();
    daemon.close();
    RelayCluster.await(forger.close());
    cluster.close();
  }

  @Test
  void aForgedTakeoverNoticeLeavesTheLiveDaemonAndItsChannelUntouched() {
    byte[] takeover = notice("forger", Long.MAX_VALUE);
    // unsealed, as before the notices were sealed, and sealed under another credential
    publish(target(), Buffer.buffer(takeover));
    publish(target(), seals("another-credential-of-at-least-32-chars", 0).seal(target(), takeover));
    publish(BusNames.RELAY_ROUTES, Buffer.buffer(takeover));
    publish(
        BusNames.RELAY_ROUTES,
        seals("another-credential-of-at-least-32-chars", 0).seal(BusNames.RELAY_ROUTES, takeover));

    assertStillServing();
    assertThat(daemon.closed).as("the forged takeovers closed the daemon").isFalse();
    Eventually.await(
        "both instances refused the notices on umbra.relay.routes",
        Duration.ofSeconds(10),
        () -> refused(b, Refusal.UNKNOWN_VERSION) == 1 && refused(b, Refusal.BAD_MAC) == 1);
    Eventually.await(
        "the daemon's instance refused them on the target's topic too",
        Duration.ofSeconds(10),
        () -> refused(a, Refusal.UNKNOWN_VERSION) == 2 && refused(a, Refusal.BAD_MAC) == 2);
  }

  @Test
  void aStaleOrReplayedNoticeUnderTheRightCredentialIsRefusedAndAFreshOneTakesOver()
      throws Exception {
    String credential =
        Files.readString(home.resolve(InternalCredential.FILE), StandardCharsets.US_ASCII).trim();
    publish(
        target(), seals(credential, -60_000).seal(target(), notice("elsewhere", Long.MAX_VALUE)));
    // authentic and fresh, but of an older registration than the daemon's: no effect, then replayed
    Buffer older = seals(credential, 0).seal(target(), notice("elsewhere", 1));
    publish(target(), older);
    publish(target(), older);

    assertStillServing();
    assertThat(daemon.closed).as("a stale notice closed the daemon").isFalse();
    assertThat(refused(a, Refusal.STALE)).isEqualTo(1);
    assertThat(refused(a, Refusal.REPLAYED)).isEqualTo(1);
    assertThat(refused(a, Refusal.BAD_MAC) + refused(a, Refusal.UNKNOWN_VERSION)).isZero();

    // a fresh notice of a newer registration elsewhere, sealed under the instances' credential
    publish(target(), seals(credential, 0).seal(target(), notice("elsewhere", Long.MAX_VALUE)));
    assertThat(daemon.awaitClosed(5_000)).isTrue();
    assertThat(daemon.closeStatus).isEqualTo(Switchboard.CLOSE_REPLACED);
  }

  /**
   * The daemon still holds its target and channel: a frame published on the target's topic after
   * the notices (so handled after them) reaches it, and the channel works both ways.
   */
  private void assertStillServing() {
    byte[] marker =
        RelayBusBatch.newBuilder()
            .setOrigin("marker")
            .addFrames(frame(FrameType.FRAME_TYPE_DATA, 4242))
            .build()
            .toByteArray();
    publish(target(), Buffer.buffer(marker));
    RelayFrame first = daemon.poll(5_000);
    assertThat(first)
        .as(
            "the daemon still gets its target's frames (not replaced: closed %s)",
            daemon.closeStatus)
        .isNotNull();
    assertThat(first.getSequence()).isEqualTo(4242);
    client.send(frame(FrameType.FRAME_TYPE_DATA, 1));
    assertThat(daemon.next(FrameType.FRAME_TYPE_DATA).getSequence()).isEqualTo(1);
    daemon.send(frame(FrameType.FRAME_TYPE_DATA, 2));
    assertThat(client.next(FrameType.FRAME_TYPE_DATA).getSequence()).isEqualTo(2);
    assertThat(client.closed).isFalse();
  }

  private RelayFrame frame(FrameType type, long sequence) {
    RelayFrame.Builder f =
        RelayFrame.newBuilder()
            .setType(type)
            .setWorkspaceId(ws.toString())
            .setTargetId(machine)
            .setSequence(sequence);
    if (type != FrameType.FRAME_TYPE_REGISTER) {
      f.setChannelId(CHANNEL).setPayload(com.google.protobuf.ByteString.copyFrom(new byte[] {1}));
    }
    return f.build();
  }

  /** A takeover notice as an instance writes it: a REGISTER of this target from {@code origin}. */
  private byte[] notice(String origin, long registeredAt) {
    return RelayBusBatch.newBuilder()
        .setOrigin(origin)
        .addFrames(frame(FrameType.FRAME_TYPE_REGISTER, registeredAt))
        .build()
        .toByteArray();
  }

  private static SealedNotices seals(String credential, long skewMillis) {
    return new SealedNotices(
        credential,
        CryptoConstants.RELAY_TAKEOVER_DOMAIN,
        512,
        () -> System.currentTimeMillis() + skewMillis);
  }

  private String target() {
    return BusNames.relayTarget(ws.toString(), machine);
  }

  /** Published and answered by Redis (a replaced daemon's instance may no longer listen). */
  private void publish(String channel, Buffer body) {
    RelayCluster.await(forger.publish(channel, body));
  }

  /** Read from the registry, so this compiles and fails against a relay without the metric. */
  private static double refused(Instance i, Refusal r) {
    Counter c =
        i.service()
            .metrics()
            .registry()
            .find(Metrics.name("relay", "bus.notices.refused"))
            .tag("reason", r.tag)
            .counter();
    return c == null ? 0 : c.count();
  }
}
