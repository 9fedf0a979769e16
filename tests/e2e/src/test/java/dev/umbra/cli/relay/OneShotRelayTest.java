package dev.umbra.cli.relay;

import static dev.umbra.relay.testing.RelayCluster.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.PlainRelayClient;
import dev.umbra.client.channel.RelayWebSocket;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.daemon.channel.DaemonChannels;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code umbra run}'s Vert.x-free relay client ({@link PlainRelayClient}) against a real relay on
 * the real Redis and a real daemon: the same channels as the Vert.x client, and every way the relay
 * connection can fail ends the run with why (the misbehaving relay's frames: clients/core
 * RelayWebSocketTest).
 */
class OneShotRelayTest {
  private static Vertx vertx;
  private static TestTokens tokens;

  /**
   * The daemon's state directory. Not a JUnit {@code @TempDir}: a command session the relay's death
   * abandoned writes its session record as its process ends, which can be after the test, and a
   * file appearing during JUnit's cleanup failed an otherwise passing test. Deleted best-effort.
   */
  private Path home;

  private RelayCluster cluster;
  private Instance relay;
  private final UUID workspace = UUID.randomUUID();
  private final String machine = UUID.randomUUID().toString();
  private final X25519KeyPair daemonKey = X25519KeyPair.generate();
  private DaemonChannels daemon;
  private PlainRelayClient client;

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
  void start() throws Exception {
    home = Files.createTempDirectory("umbra-oneshot-");
    cluster = new RelayCluster(vertx, tokens, home, Map.of());
    relay = cluster.start();
    daemon =
        new DaemonChannels(
            vertx,
            DaemonChannels.Config.of(workspace, machine, daemonKey, List.of(relay.url()), home),
            () -> Future.succeededFuture(tokens.machine(workspace, machine)));
    await(daemon.start());
    client = connect(tokens.member(workspace, "acct-" + UUID.randomUUID()));
  }

  @AfterEach
  void stop() {
    client.close();
    await(daemon.stop());
    cluster.close();
    try (Stream<Path> files = Files.walk(home)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // best effort: see home
    }
  }

  private PlainRelayClient connect(String token) throws Exception {
    return PlainRelayClient.connect(
        relay.url(),
        token,
        workspace.toString(),
        X25519KeyPair.generate(),
        null,
        Duration.ofSeconds(10));
  }

  private CompletableFuture<Integer> run(
      List<String> argv, String stdin, OutputStream out, OutputStream err) {
    return RemoteRun.run(
        client,
        machine,
        daemonKey.publicKey(),
        argv,
        stdin == null ? null : new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        out,
        err);
  }

  private static ChannelClosedException failure(CompletableFuture<Integer> run) throws Exception {
    try {
      Integer code = run.get(30, TimeUnit.SECONDS);
      throw new AssertionError("the run ended with " + code);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ChannelClosedException.class);
      return (ChannelClosedException) e.getCause();
    }
  }

  @Test
  void runsACommandWithItsInputOutputAndExitStatus() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        run(List.of("sh", "-c", "cat; echo oops >&2; exit 3"), "hello relay\n", out, err)
            .get(30, TimeUnit.SECONDS);
    assertThat(code).isEqualTo(3);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello relay\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
    assertThat(run(List.of("true"), null, out, err).get(30, TimeUnit.SECONDS)).isZero();
    assertThat(client.channelCount()).isZero();
  }

  @Test
  void outputLargerThanTheWindowArrivesWhole() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        run(List.of("head", "-c", "5000000", "/dev/zero"), null, out, new ByteArrayOutputStream())
            .get(60, TimeUnit.SECONDS);
    assertThat(code).isZero();
    assertThat(out.size()).isEqualTo(5_000_000);
  }

  @Test
  void aTokenTheRelayRefusesIsAClearErrorBeforeAnythingIsSent() {
    assertThatThrownBy(() -> connect("not-a-session-token"))
        .isInstanceOfSatisfying(
            RelayWebSocket.Refused.class,
            e -> {
              assertThat(e.reason()).isEqualTo(RelayWebSocket.Reason.UPGRADE_REFUSED);
              assertThat(e.status()).isIn(401, 403);
            })
        .hasMessageStartingWith("the relay refused the session token (HTTP 40");
  }

  @Test
  void aDaemonWhoseKeyIsNotThePinnedOneIsRefusedAndNothingRuns() throws Exception {
    var other = X25519KeyPair.generate().publicKey();
    ChannelClosedException e =
        failure(
            RemoteRun.run(
                client,
                machine,
                other,
                List.of("touch", home.resolve("ran").toString()),
                null,
                new ByteArrayOutputStream(),
                new ByteArrayOutputStream()));
    assertThat(e.code()).isEqualTo("handshake_failed");
    assertThat(e.getMessage()).contains("refused the handshake");
    assertThat(daemon.stats().failedHandshakes.get()).isEqualTo(1);
    assertThat(home.resolve("ran")).doesNotExist();
  }

  @Test
  void theRelayGoingAwayMidRunEndsTheRunWithWhy() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CompletableFuture<Integer> running =
        run(List.of("sh", "-c", "echo started; sleep 30"), null, out, new ByteArrayOutputStream());
    Eventually.await(
        "the command started",
        Duration.ofSeconds(15),
        () -> out.toString(StandardCharsets.UTF_8).contains("started"));
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("started\n");
    long killed = System.nanoTime();
    cluster.kill(relay);
    ChannelClosedException e = failure(running);
    assertThat(e.code()).isEqualTo(PlainRelayClient.RELAY_LOST);
    assertThat(e.getMessage()).startsWith("the relay");
    assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(10));
  }
}
