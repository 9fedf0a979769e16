package dev.umbra.cli.relay;

import static dev.umbra.relay.testing.RelayCluster.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import dev.umbra.cli.CliException;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.client.channel.OpenedChannel;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.noise.TransportPair;
import dev.umbra.daemon.channel.DaemonChannels;
import dev.umbra.daemon.channel.MessageChannel;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Daemon and client channel layer over two real relay instances on the real Redis: client on
 * instance A, daemon on instance B, so every frame crosses the bus.
 */
class RelayChannelsTest {
  private static Vertx vertx;
  private static TestTokens tokens;
  @TempDir Path home;

  private RelayCluster cluster;
  private Instance a;
  private Instance b;
  private final UUID workspace = UUID.randomUUID();
  private final String machine = UUID.randomUUID().toString();
  private final X25519KeyPair daemonKey = X25519KeyPair.generate();
  private final X25519KeyPair clientKey = X25519KeyPair.generate();
  private DaemonChannels daemon;
  private final List<dev.umbra.daemon.audit.DaemonAudit.Report> reports =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private RelayClient client;
  private ListAppender<ILoggingEvent> logs;

  @BeforeAll
  static void startTokens() {
    vertx = Vertx.vertx();
    tokens = await(TestTokens.start(vertx));
  }

  @AfterAll
  static void stopTokens() {
    tokens.close();
    await(vertx.close());
  }

  @BeforeEach
  void start() {
    logs = new ListAppender<>();
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    cluster = new RelayCluster(vertx, tokens, home, Map.of());
    a = cluster.start();
    b = cluster.start();
    daemon = startDaemon(null, List.of(b, a));
    client = startClient(null, List.of(a, b));
  }

  @AfterEach
  void stop() {
    await(client.close());
    await(daemon.stop());
    cluster.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  private DaemonChannels startDaemon(byte[] psk, List<Instance> relays) {
    DaemonChannels d =
        new DaemonChannels(
            vertx,
            DaemonChannels.Config.of(
                    workspace,
                    machine,
                    daemonKey,
                    relays.stream().map(Instance::url).toList(),
                    home)
                .withPsk(psk),
            () -> Future.succeededFuture(tokens.machine(workspace, machine)));
    d.audit(reports::add);
    await(d.start());
    return d;
  }

  private RelayClient startClient(byte[] psk, List<Instance> relays) {
    String account = "acct-" + UUID.randomUUID();
    RelayClient c =
        await(
            RelayClient.create(
                vertx,
                relays.stream().map(Instance::url).toList(),
                workspace.toString(),
                () -> Future.succeededFuture(tokens.member(workspace, account)),
                clientKey,
                psk,
                dev.umbra.client.http.ClientTls.system()));
    await(c.connect());
    return c;
  }

  private int run(
      RelayClient c,
      List<String> argv,
      String stdin,
      ByteArrayOutputStream out,
      ByteArrayOutputStream err) {
    return await(
        RemoteRun.run(
            c,
            machine,
            daemonKey.publicKey(),
            argv,
            stdin == null ? null : new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            out,
            err));
  }

  @Test
  void runsCommandWithStdinStdoutStderrAndExitStatusAndKeepsTranscriptOnlyOnTheDaemon()
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        run(client, List.of("sh", "-c", "cat; echo oops >&2; exit 3"), "hello relay\n", out, err);
    assertThat(code).isEqualTo(3);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello relay\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
    Path sessions = home.resolve("sessions");
    List<Path> dirs;
    try (var s = Files.list(sessions)) {
      dirs = s.toList();
    }
    assertThat(dirs).hasSize(1);
    assertThat(Files.readString(dirs.get(0).resolve("stdout"))).isEqualTo("hello relay\n");
    assertThat(Files.readString(dirs.get(0).resolve("stdin"))).isEqualTo("hello relay\n");
    assertThat(Files.readString(dirs.get(0).resolve("exit")).trim()).isEqualTo("3");
    assertThat(Files.getPosixFilePermissions(dirs.get(0)).toString())
        .isEqualTo("[OWNER_READ, OWNER_WRITE, OWNER_EXECUTE]");
    assertThat(a.service().metrics().hopsOut()).isPositive();
  }

  @Test
  void unknownCommandFailsWithAClearError() {
    assertThatThrownBy(
            () ->
                run(
                    client,
                    List.of("/no/such/command-xyz"),
                    null,
                    new ByteArrayOutputStream(),
                    new ByteArrayOutputStream()))
        .hasRootCauseInstanceOf(ChannelClosedException.class)
        .rootCause()
        .hasMessageContaining("cannot start the command");
  }

  private record Sink(NetServer server, CompletableFuture<String> digest, AtomicLong bytes) {}

  /** A TCP server on the daemon's side that hashes everything it receives. */
  private Sink sink() {
    CompletableFuture<String> digest = new CompletableFuture<>();
    AtomicLong bytes = new AtomicLong();
    NetServer server =
        await(
            vertx
                .createNetServer()
                .connectHandler(
                    sock -> {
                      MessageDigest sha = sha256();
                      sock.handler(
                          buf -> {
                            sha.update(buf.getBytes());
                            bytes.addAndGet(buf.length());
                          });
                      sock.endHandler(v -> digest.complete(HexFormat.of().formatHex(sha.digest())));
                    })
                .listen(0, "127.0.0.1"));
    return new Sink(server, digest, bytes);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private NetServer forward(RelayClient c, int port) {
    return await(
        PortForward.listen(
            vertx, c, machine, daemonKey.publicKey(), "127.0.0.1", 0, "127.0.0.1", port, e -> {}));
  }

  /**
   * Streams {@code total} pseudo-random bytes into the forwarded port; calls {@code at} once after
   * {@code atBytes}.
   */
  private static String stream(int port, long total, long atBytes, Runnable at) throws Exception {
    MessageDigest sha = sha256();
    byte[] buf = new byte[64 * 1024];
    Random r = new Random(7);
    try (Socket s = new Socket("127.0.0.1", port)) {
      OutputStream os = s.getOutputStream();
      long sent = 0;
      boolean fired = false;
      while (sent < total) {
        r.nextBytes(buf);
        int n = (int) Math.min(buf.length, total - sent);
        os.write(buf, 0, n);
        sha.update(buf, 0, n);
        sent += n;
        if (!fired && sent >= atBytes) {
          fired = true;
          at.run();
        }
      }
      os.flush();
      s.shutdownOutput();
      s.getInputStream().read(); // until the far side closes
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  @Test
  void forwardCarries100MegabytesAcrossInstancesWithEqualSha256() throws Exception {
    Sink sink = sink();
    NetServer local = forward(client, sink.server.actualPort());
    long t0 = System.nanoTime();
    String sent = stream(local.actualPort(), 100L * 1024 * 1024, Long.MAX_VALUE, () -> {});
    String received = sink.digest.get(60, TimeUnit.SECONDS);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf(
        "100 MiB through a forward across two relay instances in %d ms (%.0f MB/s)%n",
        ms, 104857.6 / ms);
    assertThat(sink.bytes.get()).isEqualTo(100L * 1024 * 1024);
    assertThat(received).isEqualTo(sent);
    assertThat(b.service().metrics().hopsIn()).isPositive();
    await(local.close());
    await(sink.server.close());
  }

  @Test
  void forwardCompletesWithIdenticalBytesWhenTheClientsRelayInstanceIsKilledMidTransfer()
      throws Exception {
    Sink sink = sink();
    NetServer local = forward(client, sink.server.actualPort());
    long total = 40L * 1024 * 1024;
    long connectsBefore = client.link().connects();
    ExecutorService killer = Executors.newSingleThreadExecutor();
    String sent =
        stream(local.actualPort(), total, total / 3, () -> killer.submit(() -> cluster.kill(a)));
    String received = sink.digest.get(60, TimeUnit.SECONDS);
    killer.shutdown();
    assertThat(killer.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    assertThat(sink.bytes.get()).isEqualTo(total);
    assertThat(received).isEqualTo(sent);
    assertThat(client.link().connects()).isGreaterThan(connectsBefore);
    await(local.close());
    await(sink.server.close());
  }

  @Test
  void forwardCarriesManyConcurrentStreams() throws Exception {
    NetServer echo =
        await(
            vertx
                .createNetServer()
                .connectHandler(sock -> sock.handler(sock::write))
                .listen(0, "127.0.0.1"));
    NetServer local = forward(client, echo.actualPort());
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      int seed = i;
      results.add(
          pool.submit(
              () -> {
                byte[] data = new byte[256 * 1024];
                new Random(seed).nextBytes(data);
                try (Socket s = new Socket("127.0.0.1", local.actualPort())) {
                  Thread writer =
                      Thread.ofVirtual()
                          .start(
                              () -> {
                                try {
                                  s.getOutputStream().write(data);
                                  s.getOutputStream().flush();
                                } catch (Exception e) {
                                  throw new IllegalStateException(e);
                                }
                              });
                  byte[] back = s.getInputStream().readNBytes(data.length);
                  writer.join();
                  return java.util.Arrays.equals(data, back);
                }
              }));
    }
    for (var r : results) {
      assertThat(r.get(60, TimeUnit.SECONDS)).isTrue();
    }
    pool.shutdown();
    await(local.close());
    await(echo.close());
  }

  @Test
  void runningCommandSurvivesARestartOfTheDaemonsRelayWithoutLossOrDuplication() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OutputStream watched =
        new OutputStream() {
          @Override
          public void write(int x) {
            out.write(x);
          }

          @Override
          public synchronized void write(byte[] bytes, int off, int len) {
            out.write(bytes, off, len);
          }
        };
    long connectsBefore = daemon.link().connects();
    Future<Integer> running =
        RemoteRun.run(
            client,
            machine,
            daemonKey.publicKey(),
            List.of(
                "sh",
                "-c",
                "i=0; while [ $i -lt 60 ]; do echo line$i; i=$((i+1)); sleep 0.05; done"),
            null,
            watched,
            new ByteArrayOutputStream());
    Eventually.await(
        "40 bytes of output before the kill", Duration.ofSeconds(10), () -> out.size() >= 40);
    cluster.kill(b); // the daemon's instance: it reconnects to A, where the client is
    Instance c = cluster.start(); // a restarted instance joins; nobody needs it
    assertThat(await(running)).isZero();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 60; i++) {
      expected.append("line").append(i).append('\n');
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(expected.toString());
    assertThat(daemon.link().connects()).isGreaterThan(connectsBefore);
    assertThat(daemon.stats().resumed.get()).isPositive();
    assertThat(c.service().actualPort()).isPositive();
  }

  @Test
  void messageChannelEchoes() throws Exception {
    OpenedChannel opened =
        await(
            client.open(
                machine,
                daemonKey.publicKey(),
                ChannelStart.newBuilder()
                    .setMessage(
                        dev.umbra.proto.channel.MessageChannel.newBuilder().setTopic("echo"))
                    .build()));
    CompletableFuture<String> got = new CompletableFuture<>();
    client
        .context()
        .runOnContext(
            v -> {
              MessageChannel peer = new MessageChannel(opened.channel());
              peer.onMessage(bytes -> got.complete(new String(bytes, StandardCharsets.UTF_8)));
              opened.listen(peer);
              peer.send("ping".getBytes(StandardCharsets.UTF_8));
            });
    assertThat(got.get(10, TimeUnit.SECONDS)).isEqualTo("ping");
  }

  @Test
  void clientRefusesAMachineWhoseKeyChangedAndAWrongKeyFailsTheHandshake() {
    PinStore pins = new PinStore(home);
    pins.check(workspace, machine, daemonKey.publicKey());
    assertThatThrownBy(() -> pins.check(workspace, machine, X25519KeyPair.generate().publicKey()))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("changed since it was first used");
    // talking to the daemon with the wrong key: the daemon cannot complete the handshake
    var other = X25519KeyPair.generate().publicKey();
    assertThatThrownBy(
            () ->
                await(
                    RemoteRun.run(
                        client,
                        machine,
                        other,
                        List.of("true"),
                        null,
                        new ByteArrayOutputStream(),
                        new ByteArrayOutputStream())))
        .rootCause()
        .isInstanceOf(ChannelClosedException.class)
        .hasMessageContaining("refused the handshake");
    assertThat(daemon.stats().failedHandshakes.get()).isEqualTo(1);
  }

  @Test
  void pskWorkspaceNeedsTheSamePsk() throws Exception {
    await(daemon.stop());
    byte[] psk = ChannelProtocol.psk(workspace.toString(), "correct horse");
    daemon = startDaemon(psk, List.of(b));
    RelayClient right = startClient(psk, List.of(a));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(run(right, List.of("echo", "psk ok"), null, out, new ByteArrayOutputStream()))
        .isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("psk ok\n");
    await(right.close());
    // IKpsk2 mixes the PSK into the second message: the client finds the daemon's answer does not
    // verify
    RelayClient wrong = startClient(ChannelProtocol.psk(workspace.toString(), "wrong"), List.of(a));
    assertThatThrownBy(
            () ->
                run(
                    wrong,
                    List.of("true"),
                    null,
                    new ByteArrayOutputStream(),
                    new ByteArrayOutputStream()))
        .rootCause()
        .hasMessageContaining("did not verify");
    await(wrong.close());
    assertThatThrownBy(
            () ->
                run(
                    client,
                    List.of("true"),
                    null,
                    new ByteArrayOutputStream(),
                    new ByteArrayOutputStream()))
        .rootCause()
        .hasMessageContaining("refused the handshake");
  }

  /** A hand-made initiator on a raw relay connection, for attacks the real client never makes. */
  private record RawChannel(
      RawPeer peer, long id, TransportPair noise, byte[] m1, String refusal) {}

  private RawChannel rawOpen(Instance on, long id, byte[] replayOf) {
    return rawOpen(
        on,
        id,
        replayOf,
        HandshakePayload.at(System.currentTimeMillis(), Optional.empty()).encode());
  }

  private RawChannel rawOpen(Instance on, long id, byte[] replayOf, byte[] payload) {
    RawPeer peer = RawPeer.open(vertx, on.url(), tokens.member(workspace, "acct-raw"));
    HandshakeState hs =
        HandshakeState.initiator(
            ChannelProtocol.suite(null),
            clientKey,
            daemonKey.publicKey(),
            RelayPrologue.encode(workspace.toString(), machine),
            null);
    byte[] m1 = replayOf != null ? replayOf : hs.writeMessage(payload);
    peer.send(
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_OPEN)
            .setWorkspaceId(workspace.toString())
            .setTargetId(machine)
            .setChannelId(id)
            .setPayload(ByteString.copyFrom(m1))
            .build());
    RelayFrame answer = peer.next();
    if (answer.getType() != FrameType.FRAME_TYPE_ACCEPT) {
      return new RawChannel(peer, id, null, m1, answer.getReason());
    }
    hs.readMessage(answer.getPayload().toByteArray());
    return new RawChannel(peer, id, hs.split(), m1, null);
  }

  @Test
  void daemonRefusesAReplayedHandshakeAndKeepsServing() throws Exception {
    RawChannel first = rawOpen(a, 1001, null);
    assertThat(first.noise()).isNotNull();
    RawChannel replay = rawOpen(a, 1002, first.m1());
    assertThat(replay.noise()).isNull();
    assertThat(daemon.stats().replayedHandshakes.get()).isEqualTo(1);
    first.peer().close();
    replay.peer().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(run(client, List.of("echo", "still here"), null, out, new ByteArrayOutputStream()))
        .isZero();
  }

  @Test
  void daemonRefusesAMessage1WithoutATimeAsFromAClientToUpdate() throws Exception {
    RawChannel old = rawOpen(a, 1501, null, new byte[0]);
    assertThat(old.noise()).isNull();
    assertThat(old.refusal())
        .isEqualTo(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_HANDSHAKE_TIME_MISSING));
    assertThat(daemon.stats().untimelyHandshakes.get()).isEqualTo(1);
    old.peer().close();
  }

  @Test
  void tamperedCiphertextClosesTheChannelAndIsCounted() throws Exception {
    RawChannel ch = rawOpen(a, 2001, null);
    byte[] ct =
        ch.noise()
            .encrypt(
                ChannelMessage.newBuilder()
                    .setStart(
                        ChannelStart.newBuilder()
                            .setRun(
                                RunCommand.newBuilder()
                                    .addArgv("touch")
                                    .addArgv(home.resolve("pwned").toString())))
                    .build()
                    .toByteArray());
    ct[ct.length / 2] ^= 0x01;
    ch.peer()
        .send(
            RelayFrame.newBuilder()
                .setType(FrameType.FRAME_TYPE_DATA)
                .setWorkspaceId(workspace.toString())
                .setTargetId(machine)
                .setChannelId(ch.id())
                .setSequence(0)
                .setPayload(ByteString.copyFrom(ct))
                .build());
    RelayFrame closed = ch.peer().next(FrameType.FRAME_TYPE_CLOSE);
    assertThat(closed.getReason()).isEqualTo("decrypt_failed");
    assertThat(daemon.stats().decryptFailures.get()).isEqualTo(1);
    assertThat(Files.exists(home.resolve("pwned"))).isFalse();
    ch.peer().close();
    assertThat(
            run(
                client,
                List.of("true"),
                null,
                new ByteArrayOutputStream(),
                new ByteArrayOutputStream()))
        .isZero();
  }

  @Test
  void noRedisMessageAndNoLogLineHoldsThePlaintext() throws Exception {
    String canary = "canary-" + UUID.randomUUID();
    List<byte[]> seen = new CopyOnWriteArrayList<>();
    Redis redis = Redis.createClient(vertx, TestRedis.url().toString());
    RedisConnection conn = await(redis.connect());
    conn.handler(
        r -> {
          if (r.size() >= 4 && "pmessage".equals(r.get(0).toString())) {
            seen.add(r.get(3).toBytes());
          }
        });
    await(conn.send(Request.cmd(Command.PSUBSCRIBE).arg(cluster.busPrefix() + "*")));
    // a command whose argv, stdin and output carry the canary, and a forward carrying it
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(
            run(
                client,
                List.of("sh", "-c", "cat; echo " + canary),
                canary + "\n",
                out,
                new ByteArrayOutputStream()))
        .isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(canary + "\n" + canary + "\n");
    // the run's report (its run record, docs/agents.md) counts the bytes and holds none of them
    int lineBytes = canary.length() + 1;
    dev.umbra.daemon.audit.DaemonAudit.Report report =
        dev.umbra.kit.testing.Eventually.until(
            "the daemon reported the run",
            java.time.Duration.ofSeconds(10),
            () ->
                reports.stream()
                    .filter(
                        r -> r.action() == dev.umbra.daemon.audit.DaemonAudit.Action.COMMAND_RUN)
                    .findFirst()
                    .orElse(null),
            java.util.Objects::nonNull);
    assertThat(report.bytesIn()).isEqualTo(lineBytes);
    assertThat(report.bytesOut()).isEqualTo(2L * lineBytes);
    assertThat(report.exitStatus()).isZero();
    NetServer echo =
        await(
            vertx
                .createNetServer()
                .connectHandler(sock -> sock.handler(sock::write))
                .listen(0, "127.0.0.1"));
    NetServer local = forward(client, echo.actualPort());
    try (Socket s = new Socket("127.0.0.1", local.actualPort())) {
      s.getOutputStream().write(canary.getBytes(StandardCharsets.UTF_8));
      assertThat(new String(s.getInputStream().readNBytes(canary.length()), StandardCharsets.UTF_8))
          .isEqualTo(canary);
    }
    // a window for late bus traffic to reach the monitor before it looks for the canary's absence
    // (the window's length is the point): no message is allowed to hold it at any moment of it
    String needleText =
        new String(canary.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    dev.umbra.kit.testing.Eventually.holdsThroughout(
        "no Redis message holds the canary",
        java.time.Duration.ofMillis(200),
        () ->
            seen.stream()
                .noneMatch(m -> new String(m, StandardCharsets.ISO_8859_1).contains(needleText)));
    // the monitor works: a probe published under the prefix reaches it (with the relay mesh the
    // channels' frames may cross no Redis channel at all, so their traffic cannot be the proof)
    await(redis.send(Request.cmd(Command.PUBLISH).arg(cluster.busPrefix() + "probe").arg("probe")));
    dev.umbra.kit.testing.Eventually.until(
        "the monitor saw the probe",
        java.time.Duration.ofSeconds(10),
        () -> seen.size(),
        n -> n > 0);
    await(conn.close());
    redis.close();
    byte[] needle = canary.getBytes(StandardCharsets.UTF_8);
    for (byte[] m : seen) {
      // ISO-8859-1 maps each byte to one char: a byte search as a string search
      assertThat(new String(m, StandardCharsets.ISO_8859_1))
          .as("a Redis message holds the canary")
          .doesNotContain(new String(needle, StandardCharsets.ISO_8859_1));
    }
    String hex = HexFormat.of().formatHex(needle);
    for (ILoggingEvent e : logs.list) {
      String line = e.getFormattedMessage() + " " + e.getKeyValuePairs();
      assertThat(line).doesNotContain(canary).doesNotContain(hex);
    }
    await(local.close());
    await(echo.close());
  }
}
