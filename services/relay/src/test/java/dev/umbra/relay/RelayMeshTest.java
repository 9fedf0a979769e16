package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.testing.BusTraffic;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.RawWebSocket;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.MeshDirection;
import dev.umbra.proto.relay.MeshSignalKind;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import dev.umbra.relay.metrics.RelayMetrics.Suppressed;
import dev.umbra.relay.routing.MeshAuth;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RedisMonitor;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestFrames;
import dev.umbra.relay.testing.TestTokens;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The relay mesh (docs/relay.md, "Mesh"): relay instances in one JVM on the real Redis, frames for
 * a daemon or client held by another instance crossing over a direct link, never a Redis publish.
 */
class RelayMeshTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String CREDENTIAL = "mesh-test-internal-credential-" + UUID.randomUUID();
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir static Path home;

  private RelayCluster cluster;
  private Instance a;
  private Instance b;
  private final UUID ws = UUID.randomUUID();
  private final String machine = "m-" + UUID.randomUUID();

  @BeforeEach
  void startRelays() {
    startRelays(4 << 20);
  }

  /** Two instances {@code a} and {@code b} whose send queues are bounded at {@code queueBytes}. */
  private void startRelays(int queueBytes) {
    cluster =
        fixture.two(
            home,
            Map.of(
                "UMBRA_RELAY_MAX_FRAME_BYTES",
                "16384",
                "UMBRA_RELAY_QUEUE_BYTES",
                Integer.toString(queueBytes),
                "UMBRA_INTERNAL_TOKEN",
                CREDENTIAL));
    a = cluster.instance(0);
    b = cluster.instance(1);
  }

  @AfterEach
  void stopRelays() {
    cluster.close();
  }

  private RawPeer daemon(Instance on) {
    return daemon(on, 0);
  }

  private RawPeer daemon(Instance on, int receiveBuffer) {
    RawPeer d =
        RelayCluster.await(
            RawPeer.connect(
                vertx,
                on.url(),
                Map.of("authorization", "Bearer " + tokens.machine(ws, machine)),
                receiveBuffer));
    d.send(frame(FrameType.FRAME_TYPE_REGISTER, 0, null));
    assertThat(d.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);
    return d;
  }

  private RawPeer client(Instance on) {
    return RawPeer.open(vertx, on.url(), tokens.member(ws, "acct-mesh"));
  }

  private RelayFrame frame(FrameType t, long channel, byte[] payload) {
    return TestFrames.frame(t, ws, machine, channel, payload);
  }

  private RelayFrame data(long channel, int sequence, int size) {
    byte[] p = new byte[size];
    RANDOM.nextBytes(p);
    return frame(FrameType.FRAME_TYPE_DATA, channel, p).toBuilder().setSequence(sequence).build();
  }

  /** OPEN from {@code c}, seen by {@code d}, ACCEPT back. */
  private void open(RawPeer c, RawPeer d, long channel) {
    c.send(frame(FrameType.FRAME_TYPE_OPEN, channel, new byte[] {1}));
    assertThat(d.next(FrameType.FRAME_TYPE_OPEN).getChannelId()).isEqualTo(channel);
    d.send(frame(FrameType.FRAME_TYPE_ACCEPT, channel, new byte[] {2}));
    assertThat(c.next(FrameType.FRAME_TYPE_ACCEPT).getChannelId()).isEqualTo(channel);
  }

  @Test
  void framesForAnotherInstanceCrossOverALinkAndRedisSeesNoPublishOfThem() throws Exception {
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger relayLogs = (Logger) LoggerFactory.getLogger("dev.umbra.relay");
    relayLogs.setLevel(Level.DEBUG);
    relayLogs.addAppender(logs);
    RawPeer d = daemon(b);
    RedisBus watcher = RedisBus.create(vertx, TestRedis.url(), cluster.busPrefix());
    List<String> traffic = BusTraffic.recordAll(watcher);
    byte[] canary = ("canary-" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    try (RawPeer c = client(a)) {
      long ch = RANDOM.nextLong() | 1;
      open(c, d, ch);
      for (int i = 0; i < 200; i++) {
        c.send(frame(FrameType.FRAME_TYPE_DATA, ch, canary).toBuilder().setSequence(i).build());
        d.send(data(ch, i, 1000));
      }
      for (int i = 0; i < 200; i++) {
        assertThat(d.next(FrameType.FRAME_TYPE_DATA).getSequence()).isEqualTo(i);
        assertThat(c.next(FrameType.FRAME_TYPE_DATA).getSequence()).isEqualTo(i);
      }
    }
    RelayMetrics ma = a.service().metrics();
    RelayMetrics mb = b.service().metrics();
    assertThat(ma.meshFramesOut()).isGreaterThanOrEqualTo(201);
    assertThat(mb.meshFramesIn()).isGreaterThanOrEqualTo(201);
    assertThat(mb.meshFramesOut()).isGreaterThanOrEqualTo(201);
    assertThat(ma.meshFramesIn()).isGreaterThanOrEqualTo(201);
    assertThat(a.service().switchboard().meshLinks()).isEqualTo(1);
    assertThat(b.service().switchboard().meshLinks()).as("one link, used both ways").isEqualTo(1);
    assertThat(traffic)
        .as("no frame crossed Redis")
        .noneMatch(m -> m.startsWith("umbra.relay.t.") || m.startsWith("umbra.relay.c."))
        .noneMatch(m -> m.contains(new String(canary, StandardCharsets.ISO_8859_1)));
    // the daemon's presence names its instance, which names its mesh endpoint
    String holder = RelayCluster.await(watcher.get(BusNames.relayPresence(ws.toString(), machine)));
    assertThat(holder).isEqualTo(b.service().switchboard().instance());
    assertThat(RelayCluster.await(watcher.get(BusNames.relayInstance(holder))))
        .isEqualTo(b.meshUrl().toString());
    d.close();
    RelayCluster.await(watcher.close());
    relayLogs.detachAppender(logs);
    List<ILoggingEvent> seen;
    synchronized (logs) { // the appender adds under this lock from event-loop threads
      seen = List.copyOf(logs.list);
    }
    assertThat(seen).as("the mesh logs its links").isNotEmpty();
    String text = new String(canary, StandardCharsets.UTF_8);
    assertThat(seen)
        .extracting(e -> e.getFormattedMessage() + " " + e.getKeyValuePairs())
        .noneMatch(line -> line.contains(text) || line.contains(CREDENTIAL));
  }

  @Test
  void aSlowReceiverPausesTheRemoteSenderInsteadOfDroppingItsFrames() throws Exception {
    // Own relays with a larger queue bound: what arrives after the pause (the room for it is 1.5
    // times the bound) is what the client's instance forwards while the signal travels, and in
    // one JVM on two vCPUs that has been up to 12 MB, everything the client sent.
    cluster.close();
    int queue = 16 << 20;
    startRelays(queue);
    RawPeer d = daemon(b, 4096);
    try (RawPeer c = client(a)) {
      long ch = RANDOM.nextLong() | 1;
      open(c, d, ch);
      d.pause(); // the daemon reads nothing for a while
      // More than can cross while the route is paused: the frames from the link waiting in the
      // daemon's queue (at most twice the bound, beyond it they would be dropped), the kernel's
      // send buffer towards the daemon, and a little on the daemon's side.
      int size = 12_000;
      long held = 2L * queue + tcpSendBufferMax() + (1 << 20);
      int n = (int) (held * 11 / 10 / size);
      for (int i = 0; i < n; i++) {
        c.sendLater(data(ch, i, size));
      }
      RelayMetrics ma = a.service().metrics();
      RelayMetrics mb = b.service().metrics();
      Eventually.await(
          "the daemon's instance told the client's to pause",
          Duration.ofSeconds(20),
          () -> ma.signals(MeshSignalKind.MESH_SIGNAL_KIND_PAUSE, false) >= 1);
      assertThat(mb.signals(MeshSignalKind.MESH_SIGNAL_KIND_PAUSE, true)).isGreaterThanOrEqualTo(1);
      // the client's instance holds the client: its frames stop crossing while the daemon sleeps
      // (a link is read at once, so without the pause all of them would cross within moments)
      assertThat(Eventually.holdsWithin(Duration.ofSeconds(2), () -> mb.meshFramesIn() >= n))
          .as("every frame crossed although the receiver read nothing")
          .isFalse();
      d.resume();
      for (int i = 0; i < n; i++) {
        assertThat(d.next(FrameType.FRAME_TYPE_DATA).getSequence()).isEqualTo(i);
      }
      assertThat(ma.signals(MeshSignalKind.MESH_SIGNAL_KIND_RESUME, false))
          .isGreaterThanOrEqualTo(1);
      assertThat(mb.drops(Drop.QUEUE_FULL)).as("paused, never dropped").isZero();
      assertThat(ma.drops(Drop.LINK_DOWN)).isZero();
    }
    d.close();
  }

  /**
   * The most a TCP socket's send buffer grows to here (Linux's {@code tcp_wmem}, whose last field
   * is 4 MiB by default; 16 MiB assumed where it cannot be read).
   */
  private static long tcpSendBufferMax() throws IOException {
    Path wmem = Path.of("/proc/sys/net/ipv4/tcp_wmem");
    if (!Files.isReadable(wmem)) {
      return 16 << 20;
    }
    String[] fields = Files.readString(wmem).trim().split("\\s+");
    return Long.parseLong(fields[fields.length - 1]);
  }

  @Test
  void aKilledInstancesChannelsResumeOnAnother() {
    Instance c3 = cluster.start();
    RawPeer d = daemon(b);
    try (RawPeer c = client(a)) {
      long ch = RANDOM.nextLong() | 1;
      open(c, d, ch);
      c.send(data(ch, 0, 100));
      assertThat(d.next(FrameType.FRAME_TYPE_DATA).getSequence()).isZero();
      cluster.kill(b);
      assertThat(d.awaitClosed(5000)).isTrue();
      // the daemon reconnects to the third instance and registers again; the client, still on
      // the first, resumes the channel
      RawPeer again = daemon(c3);
      c.send(
          frame(FrameType.FRAME_TYPE_RESUME, ch, null).toBuilder()
              .setSequence(1)
              .setAck(0)
              .build());
      RelayFrame resume = again.next(FrameType.FRAME_TYPE_RESUME);
      assertThat(resume.getChannelId()).isEqualTo(ch);
      again.send(data(ch, 0, 100));
      assertThat(c.next(FrameType.FRAME_TYPE_DATA).getChannelId()).isEqualTo(ch);
      c.send(data(ch, 1, 100));
      assertThat(again.next(FrameType.FRAME_TYPE_DATA).getSequence()).isEqualTo(1);
      assertThat(c3.service().metrics().meshFramesIn()).isGreaterThanOrEqualTo(2);
      assertThat(c3.service().metrics().meshFramesOut()).isGreaterThanOrEqualTo(1);
      again.close();
    }
  }

  @Test
  void aPeerWithoutTheCredentialOrNotInThePresenceIsRefusedAtTheUpgrade() {
    WebClient http = WebClient.create(vertx);
    int port = a.service().actualPort();
    int none =
        RelayCluster.await(http.get(port, "127.0.0.1", RelayWire.MESH_PATH).send()).statusCode();
    int wrong =
        RelayCluster.await(
                http.get(port, "127.0.0.1", RelayWire.MESH_PATH)
                    .putHeader(
                        MeshAuth.HEADER,
                        a.linkHeaders("not-the-credential-0123456789-0123456789", "01SOMEPEER")
                            .get(MeshAuth.HEADER))
                    .putHeader(RelayWire.INSTANCE_HEADER, "01SOMEPEER")
                    .send())
            .statusCode();
    assertThat(none).isEqualTo(401);
    assertThat(wrong).isEqualTo(401);
    // a session token is no credential here either
    var asClient =
        RawPeer.connect(
                vertx,
                a.meshUrl(),
                Map.of(
                    "authorization",
                    "Bearer " + tokens.member(ws, "acct"),
                    RelayWire.INSTANCE_HEADER,
                    "01SOMEPEER"),
                0)
            .toCompletionStage()
            .toCompletableFuture();
    assertThat(asClient).failsWithin(Duration.ofSeconds(5));
    // the credential, but naming an instance that is not in the mesh's presence
    var unknown =
        RawPeer.connect(vertx, a.meshUrl(), linkHeaders("01NOTINTHEMESH"), 0)
            .toCompletionStage()
            .toCompletableFuture();
    Throwable refused =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> unknown.get(5, java.util.concurrent.TimeUnit.SECONDS));
    while (refused.getCause() != null) {
      refused = refused.getCause();
    }
    assertThat(refused).isInstanceOf(UpgradeRejectedException.class);
    assertThat(((UpgradeRejectedException) refused).getStatus()).isEqualTo(403);
    assertThat(a.service().metrics().rejections(Reject.UNAUTHENTICATED)).isEqualTo(3);
    assertThat(a.service().metrics().rejections(Reject.UNKNOWN_INSTANCE)).isEqualTo(1);
    assertThat(a.service().switchboard().meshLinks()).isZero();
    http.close();
  }

  private Map<String, String> linkHeaders(String instance) {
    return a.linkHeaders(CREDENTIAL, instance);
  }

  /** A peer as the mesh would see one: in the presence, with the credential. */
  private RawPeer fakePeer(RedisBus bus, String id) {
    RelayCluster.await(
        bus.putExpiring(
            BusNames.relayInstance(id), "ws://127.0.0.1:1/v1/relay/mesh", Duration.ofMinutes(1)));
    return RelayCluster.await(RawPeer.connect(vertx, a.meshUrl(), linkHeaders(id), 0));
  }

  /** One link message of {@code n} DATA frames (sequences 0 to n - 1) towards {@code target}. */
  private byte[] frames(String origin, String target, int n) {
    RelayBusBatch.Builder b =
        RelayBusBatch.newBuilder().setOrigin(origin).setTo(MeshDirection.MESH_DIRECTION_DAEMON);
    for (int i = 0; i < n; i++) {
      b.addFrames(data(7, i, 10).toBuilder().setTargetId(target));
    }
    return b.build().toByteArray();
  }

  private static byte[] batch(String origin, MeshDirection to, RelayFrame f) {
    return RelayBusBatch.newBuilder()
        .setOrigin(origin)
        .setTo(to)
        .addFrames(f)
        .build()
        .toByteArray();
  }

  @Test
  void framesForATargetNobodyHoldsGetOneNoRouteAndOnePublishPerWindow() throws Exception {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), cluster.busPrefix());
    RelayMetrics m = a.service().metrics();
    RawPeer peer = fakePeer(bus, "01FLOODPEER");
    String gone = "gone-" + UUID.randomUUID();
    int n = 40;
    try (RedisMonitor redis = RedisMonitor.open(gone)) {
      // a stale route's frames, all at once: the first is answered at once, the rest held back
      peer.sendRaw(frames("01FLOODPEER", gone, n));
      RelayBusBatch told = RelayBusBatch.parseFrom(peer.nextRaw());
      assertThat(told.getSignals(0).getKind()).isEqualTo(MeshSignalKind.MESH_SIGNAL_KIND_NO_ROUTE);
      assertThat(told.getSignals(0).getTargetId()).isEqualTo(gone);
      Eventually.await(
          "the repeats are held back and counted",
          Duration.ofSeconds(10),
          () ->
              m.suppressions(Suppressed.NO_ROUTE_SIGNAL) == n - 1
                  && m.suppressions(Suppressed.NO_ROUTE_PUBLISH) == n - 1);
      assertThat(redis.publishes()).as("Redis saw one publish for the %d frames", n).isEqualTo(1);
      assertThat(m.signals(MeshSignalKind.MESH_SIGNAL_KIND_NO_ROUTE, true)).isEqualTo(1);
      // once the window is over, the next frame is answered (and published) again
      Eventually.await(
          "a frame after the window gets the next no_route",
          Duration.ofSeconds(10),
          () -> {
            peer.sendRaw(
                batch(
                    "01FLOODPEER",
                    MeshDirection.MESH_DIRECTION_DAEMON,
                    data(7, n, 10).toBuilder().setTargetId(gone).build()));
            return m.signals(MeshSignalKind.MESH_SIGNAL_KIND_NO_ROUTE, true) == 2;
          });
      Eventually.await(
          "the second publish reaches Redis", Duration.ofSeconds(10), () -> redis.publishes() == 2);
      RelayBusBatch again = RelayBusBatch.parseFrom(peer.nextRaw());
      assertThat(again.getSignals(0).getTargetId()).isEqualTo(gone);
    }
    peer.close();
    RelayCluster.await(bus.close());
  }

  @Test
  void framesForATargetThatMovedKeepGoingOverTheBusWhileItsNoRouteIsHeldBack() throws Exception {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), cluster.busPrefix());
    RelayMetrics m = a.service().metrics();
    RawPeer peer = fakePeer(bus, "01MOVEDPEER");
    String moved = "moved-" + UUID.randomUUID();
    // the instance the target moved to listens on its topic
    List<RelayBusBatch> there = new java.util.concurrent.CopyOnWriteArrayList<>();
    RelayCluster.await(
        bus.subscribe(
            BusNames.relayTarget(ws.toString(), moved),
            msg -> {
              try {
                there.add(RelayBusBatch.parseFrom(msg.body().getBytes()));
              } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
              }
            }));
    int n = 40;
    peer.sendRaw(frames("01MOVEDPEER", moved, n));
    Eventually.await(
        "every frame reaches the new holder, in order",
        Duration.ofSeconds(10),
        () -> there.size() == n);
    assertThat(there.stream().map(b -> b.getFrames(0).getSequence()).toList())
        .isEqualTo(java.util.stream.IntStream.range(0, n).boxed().map(Long::valueOf).toList());
    assertThat(m.suppressions(Suppressed.NO_ROUTE_PUBLISH)).isZero();
    assertThat(m.signals(MeshSignalKind.MESH_SIGNAL_KIND_NO_ROUTE, true)).isEqualTo(1);
    peer.close();
    RelayCluster.await(bus.close());
  }

  @Test
  void linkMessagesThatAreMalformedOversizedOrFromAnotherInstanceAreRefused() throws Exception {
    RawPeer d = daemon(a);
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), cluster.busPrefix());
    RelayMetrics m = a.service().metrics();
    RawPeer peer = fakePeer(bus, "01FAKEPEER");
    // a well-formed frame towards a daemon held here is delivered
    peer.sendRaw(batch("01FAKEPEER", MeshDirection.MESH_DIRECTION_DAEMON, data(7, 0, 10)));
    assertThat(d.next(FrameType.FRAME_TYPE_DATA).getChannelId()).isEqualTo(7);
    // garbage, then a frame of the wrong side, then one with a bad target: refused, link stays
    peer.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2});
    peer.sendRaw(
        batch(
            "01FAKEPEER",
            MeshDirection.MESH_DIRECTION_DAEMON,
            frame(FrameType.FRAME_TYPE_REGISTER, 0, null)));
    peer.sendRaw(
        batch(
            "01FAKEPEER",
            MeshDirection.MESH_DIRECTION_DAEMON,
            data(7, 1, 10).toBuilder().setTargetId("../x y").build()));
    Eventually.await("refused", Duration.ofSeconds(5), () -> m.rejections(Reject.BAD_FIELD) >= 1);
    assertThat(m.rejections(Reject.MALFORMED)).isEqualTo(1);
    assertThat(m.rejections(Reject.TYPE_NOT_ALLOWED)).isEqualTo(1);
    assertThat(peer.closed).isFalse();
    assertThat(d.poll(200)).as("nothing refused reached the daemon").isNull();
    // a frame for a target nobody here holds: the peer is told to forget the route
    peer.sendRaw(
        batch(
            "01FAKEPEER",
            MeshDirection.MESH_DIRECTION_DAEMON,
            data(7, 2, 10).toBuilder().setTargetId("elsewhere").build()));
    RelayBusBatch told = RelayBusBatch.parseFrom(peer.nextRaw());
    assertThat(told.getSignals(0).getKind()).isEqualTo(MeshSignalKind.MESH_SIGNAL_KIND_NO_ROUTE);
    assertThat(told.getSignals(0).getTargetId()).isEqualTo("elsewhere");
    // a message naming another origin ends the link (1008)
    peer.sendRaw(batch("01OTHERPEER", MeshDirection.MESH_DIRECTION_DAEMON, data(7, 3, 10)));
    assertThat(peer.awaitClosed(5000)).isTrue();
    assertThat(peer.closeStatus).isEqualTo((short) 1008);
    assertThat(m.rejections(Reject.UNKNOWN_INSTANCE)).isEqualTo(1);
    // a message over the limit ends the link (1009) from its length header, before it is read
    RelayCluster.await(
        bus.putExpiring(
            BusNames.relayInstance("01BIGPEER"), "ws://127.0.0.1:1/x", Duration.ofMinutes(1)));
    try (RawWebSocket big =
        RawWebSocket.connect(
            a.service().actualPort(),
            RelayWire.MESH_PATH,
            linkHeaders("01BIGPEER"),
            Duration.ofSeconds(10))) {
      assertThat(big.upgrade().status()).as(big.upgrade().body()).isEqualTo(101);
      // over the limit of 16384 + 256 (and over 65535, so the 64-bit length form is the minimal
      // one, as the protocol requires)
      big.sendOversizedHead(70_000L);
      Optional<RawWebSocket.Frame> close = big.awaitClose();
      assertThat(close).isPresent();
      assertThat(close.get().closeCode()).isEqualTo(1009);
    }
    Eventually.await("counted", Duration.ofSeconds(5), () -> m.rejections(Reject.OVERSIZED) == 1);
    assertThat(d.poll(200)).isNull();
    peer.close();
    d.close();
    RelayCluster.await(bus.close());
  }
}
