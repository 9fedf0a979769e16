package dev.umbra.daemon.channel;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.ClientAuth;
import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.testing.MutableClock;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's replay memory of Noise message 1 (docs/relay.md, "Replayed handshakes"), against the
 * real {@link DaemonChannels} behind a minimal in-process relay that hands the daemon raw OPEN
 * frames and collects its answers, as a member of the workspace could send them through the real
 * relay (tests/e2e RelayChannelsTest covers the real relay).
 */
class HandshakeReplayTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx = Vertx.vertx();
  private final UUID workspace = UUID.randomUUID();
  private final String machine = UUID.randomUUID().toString();
  private final X25519KeyPair daemonKey = X25519KeyPair.generate();
  private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  @TempDir Path home;

  private FakeRelay relay;
  private DaemonChannels daemon;
  private long nextId = 1;

  @AfterEach
  void stop() throws Exception {
    if (daemon != null) {
      get(daemon.stop());
    }
    get(vertx.close());
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private void startDaemon(Consumer<DaemonChannels> setup) throws Exception {
    relay = FakeRelay.start(vertx);
    daemon =
        new DaemonChannels(
            vertx,
            DaemonChannels.Config.of(workspace, machine, daemonKey, List.of(relay.url()), home),
            () -> Future.succeededFuture("token"));
    daemon.clock(clock);
    setup.accept(daemon);
    get(daemon.start());
  }

  /** A genuine message 1 made now (its time only: no Workspace Protection) from {@code client}. */
  private byte[] message1(X25519KeyPair client) {
    return message1(client, HandshakePayload.at(clock.millis(), Optional.empty()).encode());
  }

  private byte[] message1(X25519KeyPair client, byte[] payload) {
    return HandshakeState.initiator(
            ChannelProtocol.suite(null),
            client,
            daemonKey.publicKey(),
            RelayPrologue.encode(workspace.toString(), machine),
            null)
        .writeMessage(payload);
  }

  private RelayFrame openFrame(long id, byte[] m1) {
    return RelayFrame.newBuilder()
        .setType(FrameType.FRAME_TYPE_OPEN)
        .setWorkspaceId(workspace.toString())
        .setTargetId(machine)
        .setChannelId(id)
        .setPayload(ByteString.copyFrom(m1))
        .build();
  }

  /** Sends an OPEN with {@code m1} on a new channel id and returns the daemon's answer to it. */
  private RelayFrame open(byte[] m1) throws Exception {
    long id = nextId++;
    relay.send(openFrame(id, m1));
    return relay.answerTo(id);
  }

  private static String reason(ChannelReason r) {
    return ChannelReasons.wire(r);
  }

  /** {@code m1} is refused as a replay, with nothing opened beyond the one genuine channel. */
  private void refusedAsTheFirstReplayOfTheOnlyChannel(byte[] m1) throws Exception {
    RelayFrame replayed = open(m1);
    assertThat(replayed.getType()).isEqualTo(FrameType.FRAME_TYPE_CLOSE);
    assertThat(replayed.getReason())
        .isEqualTo(reason(ChannelReason.CHANNEL_REASON_REPLAYED_HANDSHAKE));
    assertThat(daemon.stats().replayedHandshakes.get()).isEqualTo(1);
    assertThat(daemon.stats().opened.get()).isEqualTo(1);
    assertThat(daemon.channelCount()).isEqualTo(1);
  }

  @Test
  void aFloodOfGarbageCannotEvictAGenuineHandshakeFromTheMemory() throws Exception {
    startDaemon(d -> {});
    byte[] genuine = message1(X25519KeyPair.generate());
    assertThat(open(genuine).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    // anyone who can send OPEN frames to this machine sends more garbage messages 1 than the
    // memory holds (it was 100 000)
    int garbage = 100_001;
    byte[] junk = new byte[96];
    for (int i = 0; i < garbage; i++) {
      RANDOM.nextBytes(junk);
      relay.send(openFrame(nextId++, junk));
    }
    Eventually.await(
        "every garbage handshake refused",
        Duration.ofSeconds(120),
        () -> daemon.stats().failedHandshakes.get() == garbage);
    relay.fromDaemon.clear();
    // the captured genuine message 1, replayed inside the window, is still refused
    refusedAsTheFirstReplayOfTheOnlyChannel(genuine);
    // and the garbage took no room: a new client still connects
    assertThat(open(message1(X25519KeyPair.generate())).getType())
        .isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
  }

  @Test
  void aReplayInsideTheWindowIsRefusedBeforeAnySideEffectAndClientsStillConnect() throws Exception {
    startDaemon(d -> {});
    X25519KeyPair client = X25519KeyPair.generate();
    byte[] genuine = message1(client);
    assertThat(open(genuine).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    clock.advance(ReplayCache.WINDOW);
    refusedAsTheFirstReplayOfTheOnlyChannel(genuine);
    // the same client's next handshake (a new ephemeral key) is a new channel
    assertThat(open(message1(client)).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    assertThat(daemon.stats().opened.get()).isEqualTo(2);
  }

  /** {@code answer} refused the OPEN with {@code reason}, and nothing was opened for it. */
  private void refusedWithNothingOpened(RelayFrame answer, ChannelReason reason, int opened) {
    assertThat(answer.getType()).isEqualTo(FrameType.FRAME_TYPE_CLOSE);
    assertThat(answer.getReason()).isEqualTo(reason(reason));
    assertThat(daemon.stats().opened.get()).isEqualTo(opened);
    assertThat(daemon.channelCount()).isEqualTo(opened);
  }

  @Test
  void theReplayMemoryOutlivesTwiceTheSkew() {
    assertThat(ReplayCache.WINDOW).isGreaterThanOrEqualTo(HandshakePayload.SKEW.multipliedBy(2));
  }

  @Test
  void aReplayAfterTheMemoryForgotItIsRefusedAsStaleBeforeAnySideEffect() throws Exception {
    startDaemon(d -> {});
    byte[] genuine = message1(X25519KeyPair.generate());
    assertThat(open(genuine).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    // the memory forgets it (15 minutes after it was remembered): its time still refuses it
    clock.advance(ReplayCache.WINDOW.plusMillis(1));
    refusedWithNothingOpened(open(genuine), ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE, 1);
    // and an hour later
    clock.advance(Duration.ofHours(1));
    refusedWithNothingOpened(open(genuine), ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE, 1);
    assertThat(daemon.stats().untimelyHandshakes.get()).isEqualTo(2);
    assertThat(daemon.stats().replayedHandshakes.get()).isZero();
    // a handshake made now is a new channel
    assertThat(open(message1(X25519KeyPair.generate())).getType())
        .isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
  }

  @Test
  void aMessage1FromBeyondTheSkewIsRefusedEitherWay() throws Exception {
    startDaemon(d -> {});
    Duration beyond = HandshakePayload.SKEW.plusMillis(1);
    clock.advance(beyond);
    byte[] ahead = message1(X25519KeyPair.generate());
    clock.advance(beyond.negated().multipliedBy(2));
    refusedWithNothingOpened(open(ahead), ChannelReason.CHANNEL_REASON_HANDSHAKE_FUTURE, 0);
    byte[] behind = message1(X25519KeyPair.generate());
    clock.advance(beyond.multipliedBy(2));
    refusedWithNothingOpened(open(behind), ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE, 0);
    assertThat(daemon.stats().untimelyHandshakes.get()).isEqualTo(2);
  }

  @Test
  void aMessage1WithinTheSkewEitherWayIsAccepted() throws Exception {
    startDaemon(d -> {});
    clock.advance(HandshakePayload.SKEW);
    byte[] ahead = message1(X25519KeyPair.generate());
    clock.advance(HandshakePayload.SKEW.negated());
    assertThat(open(ahead).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    byte[] behind = message1(X25519KeyPair.generate());
    clock.advance(HandshakePayload.SKEW);
    assertThat(open(behind).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    assertThat(daemon.stats().opened.get()).isEqualTo(2);
  }

  @Test
  void aMessage1WithoutATimeFromAnOlderClientIsRefusedAsSuch() throws Exception {
    startDaemon(d -> {});
    String v1 =
        "{\"credential\":{\"payload\":\"{}\",\"signature\":\"00\"},"
            + "\"static_key_signature\":\"00\",\"type\":\"umbra-relay-client-auth/v1\"}";
    for (byte[] old : List.of(new byte[0], v1.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
      refusedWithNothingOpened(
          open(message1(X25519KeyPair.generate(), old)),
          ChannelReason.CHANNEL_REASON_HANDSHAKE_TIME_MISSING,
          0);
    }
    // a payload that is no message 1 payload at all
    refusedWithNothingOpened(
        open(message1(X25519KeyPair.generate(), new byte[] {'{'})),
        ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE,
        0);
    assertThat(daemon.stats().untimelyHandshakes.get()).isEqualTo(2);
    assertThat(daemon.stats().failedHandshakes.get()).isEqualTo(1);
  }

  @Test
  void aMemoryFullOfGenuineHandshakesRefusesNewOnesUntilTheyLeaveByTime() throws Exception {
    startDaemon(d -> d.replayMemory(Duration.ofMinutes(15), 3, 3));
    List<byte[]> remembered = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      byte[] m1 = message1(X25519KeyPair.generate());
      assertThat(open(m1).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
      remembered.add(m1);
      clock.advance(Duration.ofMinutes(1));
    }
    // full of handshakes inside the window: a new one is refused, none is forgotten for it
    RelayFrame refused = open(message1(X25519KeyPair.generate()));
    assertThat(refused.getType()).isEqualTo(FrameType.FRAME_TYPE_CLOSE);
    assertThat(refused.getReason())
        .isEqualTo(reason(ChannelReason.CHANNEL_REASON_REPLAY_MEMORY_FULL));
    assertThat(daemon.stats().replayMemoryFull.get()).isEqualTo(1);
    assertThat(daemon.stats().opened.get()).isEqualTo(3);
    for (byte[] m1 : remembered) {
      assertThat(open(m1).getReason())
          .isEqualTo(reason(ChannelReason.CHANNEL_REASON_REPLAYED_HANDSHAKE));
    }
    // garbage is refused by the handshake and takes no room either
    assertThat(open(new byte[96]).getReason())
        .isEqualTo(reason(ChannelReason.CHANNEL_REASON_HANDSHAKE_FAILED));
    // the oldest leaves by time (15 min after it was remembered): one new handshake fits again
    clock.advance(Duration.ofMinutes(12).plusMillis(1));
    assertThat(open(message1(X25519KeyPair.generate())).getType())
        .isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    assertThat(open(message1(X25519KeyPair.generate())).getReason())
        .isEqualTo(reason(ChannelReason.CHANNEL_REASON_REPLAY_MEMORY_FULL));
    assertThat(daemon.stats().replayMemoryFull.get()).isEqualTo(2);
    assertThat(daemon.stats().opened.get()).isEqualTo(4);
  }

  @Test
  void oneClientCannotFillTheMemoryForEverybody() throws Exception {
    startDaemon(d -> d.replayMemory(Duration.ofMinutes(15), 10, 2));
    X25519KeyPair greedy = X25519KeyPair.generate();
    assertThat(open(message1(greedy)).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    assertThat(open(message1(greedy)).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    RelayFrame third = open(message1(greedy));
    assertThat(third.getType()).isEqualTo(FrameType.FRAME_TYPE_CLOSE);
    assertThat(third.getReason())
        .isEqualTo(reason(ChannelReason.CHANNEL_REASON_TOO_MANY_HANDSHAKES));
    assertThat(daemon.stats().tooManyHandshakes.get()).isEqualTo(1);
    // another client still has room
    assertThat(open(message1(X25519KeyPair.generate())).getType())
        .isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    // the client's share comes back as its handshakes leave the window
    clock.advance(Duration.ofMinutes(15).plusMillis(1));
    assertThat(open(message1(greedy)).getType()).isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    assertThat(daemon.stats().opened.get()).isEqualTo(4);
  }

  @Test
  void underWorkspaceProtectionTheShareIsPerDeviceWhateverStaticKeysItBinds() throws Exception {
    Ed25519KeyPair root = Ed25519KeyPair.generate();
    Signed keyset =
        Signed.sign(
            new TrustModel.Keyset(
                    workspace, 1, root.publicKey(), X25519KeyPair.generate().publicKey(), "t")
                .fields(),
            root.privateKey());
    DeviceTrust pin = TrustStore.pinFirst(workspace, List.of(keyset), List.of());
    startDaemon(d -> d.trust(() -> Optional.of(pin)).replayMemory(Duration.ofMinutes(15), 10, 2));
    Ed25519KeyPair greedy = Ed25519KeyPair.generate();
    Signed greedyCredential = credential(root, greedy);
    // a device may bind any number of Noise static keys: each handshake here uses a new one
    for (int i = 0; i < 2; i++) {
      assertThat(open(message1(X25519KeyPair.generate(), greedyCredential, greedy)).getType())
          .isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    }
    RelayFrame third = open(message1(X25519KeyPair.generate(), greedyCredential, greedy));
    assertThat(third.getReason())
        .isEqualTo(reason(ChannelReason.CHANNEL_REASON_TOO_MANY_HANDSHAKES));
    // another trusted device still has its share
    Ed25519KeyPair other = Ed25519KeyPair.generate();
    assertThat(open(message1(X25519KeyPair.generate(), credential(root, other), other)).getType())
        .isEqualTo(FrameType.FRAME_TYPE_ACCEPT);
    assertThat(daemon.stats().opened.get()).isEqualTo(3);
    assertThat(daemon.stats().tooManyHandshakes.get()).isEqualTo(1);
  }

  private Signed credential(Ed25519KeyPair root, Ed25519KeyPair device) {
    return Signed.sign(
        new TrustModel.Credential(
                workspace,
                UUID.randomUUID(),
                1,
                new TrustModel.DeviceKeys(device.publicKey(), P256KeyPair.generate().publicKey()),
                "laptop",
                "cli",
                "t")
            .fields(),
        root.privateKey());
  }

  /** A message 1 under Workspace Protection: the device's credential binding {@code client}. */
  private byte[] message1(X25519KeyPair client, Signed credential, Ed25519KeyPair device) {
    return message1(
        client,
        HandshakePayload.at(
                clock.millis(),
                Optional.of(
                    ClientAuth.proof(
                        credential, device, workspace.toString(), machine, client.publicKey())))
            .encode());
  }

  /** A relay reduced to what the daemon needs: REGISTERED for its REGISTER, frames both ways. */
  private static final class FakeRelay {
    final BlockingQueue<RelayFrame> fromDaemon = new LinkedBlockingQueue<>();
    private volatile ServerWebSocket daemon;
    private HttpServer server;

    static FakeRelay start(Vertx vertx) throws Exception {
      FakeRelay r = new FakeRelay();
      r.server =
          get(
              vertx
                  .createHttpServer()
                  .webSocketHandler(
                      ws -> {
                        r.daemon = ws;
                        ws.binaryMessageHandler(b -> r.received(ws, b));
                      })
                  .listen(0, "127.0.0.1"));
      return r;
    }

    private void received(ServerWebSocket ws, Buffer b) {
      RelayFrame f;
      try {
        f = RelayFrame.parseFrom(b.getBytes());
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException(e);
      }
      if (f.getType() == FrameType.FRAME_TYPE_REGISTER) {
        ws.writeBinaryMessage(
            Buffer.buffer(
                RelayFrame.newBuilder()
                    .setType(FrameType.FRAME_TYPE_REGISTERED)
                    .setWorkspaceId(f.getWorkspaceId())
                    .setTargetId(f.getTargetId())
                    .build()
                    .toByteArray()));
      } else {
        fromDaemon.add(f);
      }
    }

    URI url() {
      return URI.create("ws://127.0.0.1:" + server.actualPort() + "/v1/relay");
    }

    void send(RelayFrame f) {
      daemon.writeBinaryMessage(Buffer.buffer(f.toByteArray()));
    }

    /** The daemon's first frame for channel {@code id} (others are dropped). */
    RelayFrame answerTo(long id) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline) {
        RelayFrame f = fromDaemon.poll(100, TimeUnit.MILLISECONDS);
        if (f != null && f.getChannelId() == id) {
          return f;
        }
      }
      throw new AssertionError("no answer from the daemon to channel " + id);
    }
  }
}
