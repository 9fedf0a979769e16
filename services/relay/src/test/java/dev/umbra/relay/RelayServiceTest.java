package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.revocation.RevocationChannel;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import dev.umbra.relay.routing.Switchboard;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestFrames;
import dev.umbra.relay.testing.TestTokens;
import dev.umbra.relay.wire.Reject;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Two relay instances on the real Redis; raw envelopes (no Noise: the relay must not care). */
class RelayServiceTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir static Path home;

  private RelayCluster cluster;
  private Instance a;
  private Instance b;
  private final UUID ws = UUID.randomUUID();
  private final String machine = "m-" + UUID.randomUUID();
  private ListAppender<ILoggingEvent> logs;

  @BeforeEach
  void startRelays() {
    logs = new ListAppender<>();
    logs.start();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(logs);
    ((Logger) LoggerFactory.getLogger("dev.umbra.relay")).setLevel(Level.DEBUG);
    cluster =
        fixture.two(
            home,
            Map.of("UMBRA_RELAY_MAX_FRAME_BYTES", "8192", "UMBRA_RELAY_QUEUE_BYTES", "65536"));
    a = cluster.instance(0);
    b = cluster.instance(1);
  }

  @AfterEach
  void stopRelays() {
    cluster.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  private RawPeer daemon(Instance on, UUID workspace, String target) {
    RawPeer d = RawPeer.open(vertx, on.url(), tokens.machine(workspace, target));
    d.send(
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_REGISTER)
            .setWorkspaceId(workspace.toString())
            .setTargetId(target)
            .build());
    assertThat(d.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);
    return d;
  }

  private RawPeer client(Instance on, UUID workspace) {
    return RawPeer.open(vertx, on.url(), tokens.member(workspace, "acct-" + UUID.randomUUID()));
  }

  private RelayFrame frame(
      FrameType t, UUID workspace, String target, long channel, byte[] payload) {
    return TestFrames.frame(t, workspace, target, channel, payload);
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** A full open/accept/data round trip between a fresh client on {@code c} and the daemon. */
  private void assertRoundTrip(Instance c, RawPeer d) {
    try (RawPeer cl = client(c, ws)) {
      long ch = RANDOM.nextLong() | 1;
      cl.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, ch, new byte[] {1, 2, 3}));
      RelayFrame open = d.next(FrameType.FRAME_TYPE_OPEN);
      assertThat(open.getChannelId()).isEqualTo(ch);
      d.send(frame(FrameType.FRAME_TYPE_ACCEPT, ws, machine, ch, new byte[] {4}));
      assertThat(cl.next(FrameType.FRAME_TYPE_ACCEPT).getPayload().toByteArray())
          .containsExactly(4);
    }
  }

  @Test
  void routesClientOnOneInstanceToDaemonOnAnotherInOrder() {
    RawPeer d = daemon(b, ws, machine);
    RawPeer c = client(a, ws);
    long ch = 42;
    c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, ch, new byte[] {9}));
    assertThat(d.next().getType()).isEqualTo(FrameType.FRAME_TYPE_OPEN);
    d.send(frame(FrameType.FRAME_TYPE_ACCEPT, ws, machine, ch, new byte[] {8}));
    assertThat(c.next().getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    for (int i = 0; i < 500; i++) {
      c.send(
          frame(FrameType.FRAME_TYPE_DATA, ws, machine, ch, random(1000)).toBuilder()
              .setSequence(i)
              .build());
      d.send(
          frame(FrameType.FRAME_TYPE_DATA, ws, machine, ch, random(1000)).toBuilder()
              .setSequence(i)
              .build());
    }
    for (int i = 0; i < 500; i++) {
      assertThat(d.next().getSequence()).isEqualTo(i);
      assertThat(c.next().getSequence()).isEqualTo(i);
    }
    assertThat(a.service().metrics().hopsOut()).isGreaterThanOrEqualTo(501);
    assertThat(b.service().metrics().hopsIn()).isGreaterThanOrEqualTo(501);
    assertThat(b.service().metrics().hopsOut()).isGreaterThanOrEqualTo(501);
    c.close();
    d.close();
  }

  @Test
  void routesWithinOneInstanceWithoutTheBus() {
    RawPeer d = daemon(a, ws, machine);
    assertRoundTrip(a, d);
    assertThat(a.service().metrics().hopsOut()).isZero();
    d.close();
  }

  @Test
  void rejectsFrameForAnotherWorkspaceAndKeepsServing() {
    RawPeer d = daemon(b, ws, machine);
    UUID other = UUID.randomUUID();
    try (RawPeer intruder = client(a, other)) {
      // envelope claims the victim's workspace: refused, not forwarded
      intruder.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 7, new byte[] {1}));
      RelayFrame err = intruder.next();
      assertThat(err.getType()).isEqualTo(FrameType.FRAME_TYPE_ERROR);
      assertThat(err.getReason()).isEqualTo("wrong_workspace");
      // its own workspace has no such target: the open is closed as unknown
      intruder.send(frame(FrameType.FRAME_TYPE_OPEN, other, machine, 7, new byte[] {1}));
      RelayFrame closed = intruder.next();
      assertThat(closed.getType()).isEqualTo(FrameType.FRAME_TYPE_CLOSE);
      assertThat(closed.getReason()).isEqualTo("unknown_target");
    }
    assertThat(d.poll(200)).isNull();
    assertThat(a.service().metrics().rejections(Reject.WRONG_WORKSPACE)).isEqualTo(1);
    assertThat(a.service().metrics().rejections(Reject.UNKNOWN_TARGET)).isEqualTo(1);
    assertRoundTrip(a, d);
    d.close();
  }

  @Test
  void rejectsUnknownTypeTypeOfTheOtherSideAndBadFields() {
    RawPeer d = daemon(a, ws, machine);
    try (RawPeer c = client(a, ws)) {
      c.send(
          frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 5, new byte[] {1}).toBuilder()
              .setTypeValue(77)
              .build());
      assertThat(c.next().getReason()).isEqualTo("unknown_type");
      c.send(frame(FrameType.FRAME_TYPE_REGISTER, ws, machine, 0, null));
      assertThat(c.next().getReason()).isEqualTo("type_not_allowed");
      c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 0, new byte[] {1}));
      assertThat(c.next().getReason()).isEqualTo("bad_field");
      c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, "bad target/../x", 5, new byte[] {1}));
      assertThat(c.next().getReason()).isEqualTo("bad_field");
      c.send(frame(FrameType.FRAME_TYPE_DATA, ws, machine, 5, null));
      assertThat(c.next().getReason()).isEqualTo("bad_field");
    }
    // a daemon may only serve its own machine
    try (RawPeer other = RawPeer.open(vertx, a.url(), tokens.machine(ws, "m-other"))) {
      other.send(frame(FrameType.FRAME_TYPE_REGISTER, ws, machine, 0, null));
      assertThat(other.next().getReason()).isEqualTo("wrong_target");
      other.send(frame(FrameType.FRAME_TYPE_ACCEPT, ws, machine, 5, new byte[] {1}));
      assertThat(other.next().getReason()).isEqualTo("not_registered");
    }
    var m = a.service().metrics();
    assertThat(m.rejections(Reject.UNKNOWN_TYPE)).isEqualTo(1);
    assertThat(m.rejections(Reject.TYPE_NOT_ALLOWED)).isEqualTo(1);
    assertThat(m.rejections(Reject.BAD_FIELD)).isEqualTo(3);
    assertThat(m.rejections(Reject.WRONG_TARGET)).isEqualTo(1);
    assertThat(m.rejections(Reject.NOT_REGISTERED)).isEqualTo(1);
    assertThat(d.poll(100)).isNull();
    assertRoundTrip(b, d);
    d.close();
  }

  @Test
  void rejectsTruncatedAndGarbageProtobufAndKeepsTheConnection() {
    RawPeer d = daemon(a, ws, machine);
    try (RawPeer c = client(a, ws)) {
      byte[] good = frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 5, random(100)).toByteArray();
      c.sendRaw(java.util.Arrays.copyOf(good, good.length - 10));
      assertThat(c.next().getReason()).isEqualTo("malformed");
      c.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 1, 2});
      assertThat(c.next().getReason()).isEqualTo("malformed");
      assertThat(c.closed).isFalse();
    }
    assertThat(a.service().metrics().rejections(Reject.MALFORMED)).isEqualTo(2);
    assertThat(d.poll(100)).isNull();
    assertRoundTrip(a, d);
    d.close();
  }

  @Test
  void closesConnectionThatSendsAnOversizedFrameAndCountsIt() {
    RawPeer d = daemon(a, ws, machine);
    RawPeer c = client(a, ws);
    c.sendRaw(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 5, random(9000)).toByteArray());
    assertThat(c.awaitClosed(5000)).isTrue();
    assertThat(a.service().metrics().rejections(Reject.OVERSIZED)).isEqualTo(1);
    assertThat(d.poll(100)).isNull();
    assertRoundTrip(a, d);
    c.close();
    d.close();
  }

  @Test
  void rejectsAReplayedOpenOnALiveChannel() {
    RawPeer d = daemon(b, ws, machine);
    String account = "acct-1";
    try (RawPeer c = RawPeer.open(vertx, a.url(), tokens.member(ws, account));
        RawPeer other = client(a, ws)) {
      RelayFrame open = frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 99, random(96));
      c.send(open);
      assertThat(d.next().getType()).isEqualTo(FrameType.FRAME_TYPE_OPEN);
      c.send(open);
      assertThat(c.next().getReason()).isEqualTo("duplicate_open");
      other.send(open);
      assertThat(other.next().getReason()).isEqualTo("channel_in_use");
      // another member cannot hijack the channel with data either
      other.send(frame(FrameType.FRAME_TYPE_DATA, ws, machine, 99, random(10)));
      assertThat(other.next().getReason()).isEqualTo("channel_in_use");
    }
    assertThat(d.poll(200)).isNull();
    assertThat(a.service().metrics().rejections(Reject.DUPLICATE_OPEN)).isEqualTo(1);
    assertThat(a.service().metrics().rejections(Reject.CHANNEL_IN_USE)).isEqualTo(2);
    d.close();
  }

  @Test
  void auditsChannelsOpenedRefusedAndClosedWithEnvelopeMetadataOnly() throws Exception {
    String stream = dev.umbra.kit.audit.AuditEmitter.INGEST_STREAM;
    a.bus()
        .ensureGroup(stream, "test")
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, java.util.concurrent.TimeUnit.SECONDS);
    RawPeer d = daemon(b, ws, machine);
    byte[] secret = random(64);
    try (RawPeer c = client(a, ws)) {
      c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 0x51, secret));
      d.next(FrameType.FRAME_TYPE_OPEN);
      d.send(frame(FrameType.FRAME_TYPE_ACCEPT, ws, machine, 0x51, secret));
      c.next(FrameType.FRAME_TYPE_ACCEPT);
      c.send(frame(FrameType.FRAME_TYPE_DATA, ws, machine, 0x51, secret));
      d.next(FrameType.FRAME_TYPE_DATA);
      d.send(
          frame(FrameType.FRAME_TYPE_CLOSE, ws, machine, 0x51, null).toBuilder()
              .setReason("done")
              .build());
      c.next(FrameType.FRAME_TYPE_CLOSE);
      // the daemon refuses the next handshake; the one after goes to a machine nobody serves
      c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 0x52, secret));
      d.next(FrameType.FRAME_TYPE_OPEN);
      d.send(
          frame(FrameType.FRAME_TYPE_CLOSE, ws, machine, 0x52, null).toBuilder()
              .setReason("handshake_failed")
              .build());
      c.next(FrameType.FRAME_TYPE_CLOSE);
      c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, "nobody-serves-this", 0x53, secret));
      assertThat(c.next(FrameType.FRAME_TYPE_CLOSE).getReason()).isEqualTo("unknown_target");
    }
    d.close();
    List<dev.umbra.proto.audit.AuditEvent> events = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 10_000;
    while (events.size() < 4 && System.currentTimeMillis() < deadline) {
      for (var e :
          a.bus()
              .readGroup(stream, "test", "c1", 100, java.time.Duration.ofMillis(500))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, java.util.concurrent.TimeUnit.SECONDS)) {
        var ev = dev.umbra.proto.audit.AuditEvent.parseFrom(e.body().getBytes());
        if (ev.getAction().startsWith("relay.")) {
          events.add(ev);
        }
        // not a byte of any payload in any audit event
        assertThat(new String(e.body().getBytes(), java.nio.charset.StandardCharsets.ISO_8859_1))
            .doesNotContain(new String(secret, java.nio.charset.StandardCharsets.ISO_8859_1));
      }
    }
    // the emitter keeps several appends in flight, so the stream order need not be the emit order
    assertThat(events)
        .extracting(
            ev ->
                ev.getAction()
                    + " "
                    + ev.getMetadataMap().get("channel")
                    + " "
                    + ev.getMetadataMap().getOrDefault("reason", "-"))
        .containsExactlyInAnyOrder(
            "relay.channel_opened 51 -",
            "relay.channel_closed 51 daemon_done",
            "relay.channel_refused 52 daemon_handshake_failed",
            "relay.channel_refused 53 unknown_target");
    assertThat(events).allSatisfy(ev -> assertThat(ev.getWorkspaceId()).isEqualTo(ws.toString()));
  }

  @Test
  void refusesUpgradeWithoutValidToken() {
    WebClient http = WebClient.create(vertx);
    int status =
        RelayCluster.await(http.get(a.service().actualPort(), "127.0.0.1", "/v1/relay").send())
            .statusCode();
    assertThat(status).as("no credential: 401 before anything else is checked").isEqualTo(401);
    int plain =
        RelayCluster.await(
                http.get(a.service().actualPort(), "127.0.0.1", "/v1/relay")
                    .putHeader("authorization", "Bearer garbage")
                    .send())
            .statusCode();
    assertThat(plain).as("a credential, but not a WebSocket upgrade").isEqualTo(400);
    WebSocketClient wsc = vertx.createWebSocketClient();
    for (String token :
        new String[] {
          null,
          "garbage",
          tokens.mint(ws, "x", "member", "member", "j", java.time.Duration.ofMinutes(1), "audit"),
          tokens.mint(ws, "x", "member", "viewer", "j", java.time.Duration.ofMinutes(1), "relay")
        }) {
      WebSocketConnectOptions o = new WebSocketConnectOptions().setAbsoluteURI(a.url().toString());
      if (token != null) {
        o.putHeader("authorization", "Bearer " + token);
      }
      var r = wsc.connect(o).toCompletionStage().toCompletableFuture();
      assertThat(r).failsWithin(java.time.Duration.ofSeconds(5));
    }
    assertThat(a.service().metrics().rejections(Reject.UNAUTHENTICATED)).isEqualTo(4);
    assertThat(a.service().metrics().rejections(Reject.FORBIDDEN_ROLE)).isEqualTo(1);
    http.close();
    wsc.close();
  }

  @Test
  void revocationFromTheBusClosesTheRevokedPartyAtOnceAndRefusesItAfter() throws Exception {
    RawPeer d = daemon(b, ws, machine);
    String account = "acct-revoked";
    String before = tokens.member(ws, account);
    RawPeer c = RawPeer.open(vertx, a.url(), before);
    RawPeer bystander = client(a, ws);
    RedisBus pub = RedisBus.create(vertx, TestRedis.url(), cluster.busPrefix());
    Revocation r =
        Revoked.message(RevokedKind.REVOKED_KIND_MEMBER, ws, "member-id", account, Instant.now());
    RelayCluster.await(pub.publish(RevocationChannel.CHANNEL, Buffer.buffer(r.toByteArray())));
    assertThat(c.awaitClosed(3000)).isTrue();
    assertThat(c.closeStatus).isEqualTo(Switchboard.CLOSE_REVOKED);
    assertThat(bystander.closed).isFalse();
    var again = RawPeer.connect(vertx, a.url(), before).toCompletionStage().toCompletableFuture();
    assertThat(again).failsWithin(java.time.Duration.ofSeconds(5));
    assertThat(a.service().metrics().rejections(Reject.REVOKED)).isEqualTo(1);
    Revocation m =
        Revoked.message(RevokedKind.REVOKED_KIND_MACHINE, ws, machine, null, Instant.now());
    RelayCluster.await(pub.publish(RevocationChannel.CHANNEL, Buffer.buffer(m.toByteArray())));
    assertThat(d.awaitClosed(3000)).isTrue();
    RelayCluster.await(pub.close());
    bystander.close();
  }

  @Test
  void aRelayThatCannotReadTheRevocationLogRefusesEveryTokenAsStaleNotRevokedUntilItReadsItAgain() {
    RelayCluster blind = fixture.cluster(home, Map.of());
    Redis redis = Redis.createClient(vertx, TestRedis.url().toString());
    String log = blind.busPrefix() + RevocationChannel.LOG;
    try {
      // the log key holds a string: every read of it fails (WRONGTYPE) while pub/sub still works
      RelayCluster.await(redis.send(Request.cmd(Command.SET).arg(log).arg("not-a-stream")));
      Instance s = blind.start();
      String live = tokens.member(ws, "acct-live"); // no revocation names it
      Throwable refused =
          RelayCluster.await(
              RawPeer.connect(vertx, s.url(), live)
                  .map(p -> (Throwable) null)
                  .recover(Future::succeededFuture));
      assertThat(refused)
          .as("refused while the list is stale")
          .isInstanceOf(UpgradeRejectedException.class);
      assertThat(((UpgradeRejectedException) refused).getStatus())
          .as("try again, not log in again")
          .isEqualTo(503);
      assertThat(s.service().metrics().rejections(Reject.REVOCATIONS_STALE)).isEqualTo(1);
      assertThat(s.service().metrics().rejections(Reject.REVOKED))
          .as("nothing was revoked")
          .isZero();
      // the log readable again: the next poll reads it and the same token is admitted
      RelayCluster.await(redis.send(Request.cmd(Command.DEL).arg(log)));
      Eventually.await(
          "the relay read the revocation log again",
          java.time.Duration.ofSeconds(10),
          () -> s.service().switchboard().revokedByVerifier() == Reject.REVOKED);
      RawPeer admitted = RawPeer.open(vertx, s.url(), live);
      assertThat(admitted.closed).isFalse();
      admitted.close();
      assertThat(s.service().metrics().rejections(Reject.REVOCATIONS_STALE)).isEqualTo(1);
    } finally {
      blind.close();
      redis.close();
    }
  }

  @Test
  void tellsTheWorkspacesDaemonsOnEveryInstanceWhenADeviceIsRevoked() {
    RawPeer onA = daemon(a, ws, machine);
    RawPeer onB = daemon(b, ws, "second-machine");
    RawPeer otherWorkspace = daemon(b, UUID.randomUUID(), "third-machine");
    RawPeer member = client(a, ws);
    RedisBus pub = RedisBus.create(vertx, TestRedis.url(), cluster.busPrefix());
    Revocation r =
        Revoked.message(
            RevokedKind.REVOKED_KIND_DEVICE, ws, UUID.randomUUID().toString(), null, Instant.now());
    RelayCluster.await(pub.publish(RevocationChannel.CHANNEL, Buffer.buffer(r.toByteArray())));
    RelayFrame hint = onA.next(FrameType.FRAME_TYPE_TRUST_CHANGED);
    assertThat(hint.getWorkspaceId()).isEqualTo(ws.toString());
    assertThat(hint.getTargetId()).isEqualTo(machine);
    assertThat(hint.getPayload().isEmpty()).isTrue();
    assertThat(onB.next(FrameType.FRAME_TYPE_TRUST_CHANGED).getTargetId())
        .isEqualTo("second-machine");
    assertThat(a.service().metrics().trustHints()).isEqualTo(1);
    assertThat(b.service().metrics().trustHints()).isEqualTo(1);
    // nobody outside the workspace hears of it, members get no hints, and no session is closed
    assertThat(otherWorkspace.poll(300)).isNull();
    assertThat(member.poll(100)).isNull();
    assertThat(member.closed || onA.closed || onB.closed).isFalse();
    // a keyset rotation voids older credentials: the daemons hear of it the same way
    Revocation k =
        Revoked.message(RevokedKind.REVOKED_KIND_KEYSET_VERSION, ws, "2", null, Instant.now());
    RelayCluster.await(pub.publish(RevocationChannel.CHANNEL, Buffer.buffer(k.toByteArray())));
    assertThat(onA.next(FrameType.FRAME_TYPE_TRUST_CHANGED).getTargetId()).isEqualTo(machine);
    assertThat(onB.next(FrameType.FRAME_TYPE_TRUST_CHANGED).getTargetId())
        .isEqualTo("second-machine");
    assertThat(member.closed || onA.closed || onB.closed).isFalse();
    // a daemon cannot send the hint itself: it is the relay's
    onA.send(frame(FrameType.FRAME_TYPE_TRUST_CHANGED, ws, machine, 0, null));
    assertThat(onA.next(FrameType.FRAME_TYPE_ERROR).getReason())
        .isEqualTo(Reject.TYPE_NOT_ALLOWED.tag());
    RelayCluster.await(pub.close());
    member.close();
    onA.close();
    onB.close();
    otherWorkspace.close();
  }

  @Test
  void daemonReconnectingToAnotherInstanceTakesOverItsTarget() {
    RawPeer first = daemon(a, ws, machine);
    RawPeer second = daemon(b, ws, machine);
    assertThat(first.awaitClosed(3000)).isTrue();
    assertThat(first.closeStatus).isEqualTo(Switchboard.CLOSE_REPLACED);
    assertRoundTrip(a, second);
    second.close();
  }

  @Test
  void slowReaderPausesLocalWriterInsteadOfQueueing() throws Exception {
    // the daemon reads nothing for a while: the relay stops reading from the client, it never drops
    RawPeer d = daemon(a, ws, machine);
    RawPeer c = client(a, ws);
    c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 3, new byte[] {1}));
    d.next(FrameType.FRAME_TYPE_OPEN);
    for (int i = 0; i < 400; i++) {
      c.send(
          frame(FrameType.FRAME_TYPE_DATA, ws, machine, 3, random(4000)).toBuilder()
              .setSequence(i)
              .build());
    }
    for (int i = 0; i < 400; i++) {
      assertThat(d.next().getSequence()).isEqualTo(i);
    }
    assertThat(a.service().metrics().drops(Drop.QUEUE_FULL)).isZero();
    c.close();
    d.close();
  }

  @Test
  void logLinesHoldNeitherPayloadNorToken() {
    byte[] canary = ("canary-" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    String member = tokens.member(ws, "acct-canary");
    RawPeer d = daemon(b, ws, machine);
    try (RawPeer c = RawPeer.open(vertx, a.url(), member)) {
      c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 11, canary));
      d.next(FrameType.FRAME_TYPE_OPEN);
      c.send(frame(FrameType.FRAME_TYPE_OPEN, ws, machine, 11, canary)); // rejected: logged
      c.next(FrameType.FRAME_TYPE_ERROR);
    }
    d.close();
    String hex = HexFormat.of().formatHex(canary);
    String text = new String(canary, StandardCharsets.UTF_8);
    java.util.List<ILoggingEvent> seen;
    synchronized (logs) { // the appender adds under this lock from event-loop threads
      seen = new java.util.ArrayList<>(logs.list);
    }
    assertThat(seen).isNotEmpty();
    for (ILoggingEvent e : seen) {
      String line = e.getFormattedMessage() + " " + e.getKeyValuePairs();
      assertThat(line)
          .doesNotContain(text)
          .doesNotContain(hex)
          .doesNotContain(member)
          .doesNotContain(member.substring(member.lastIndexOf('.') + 1));
    }
  }
}
