package dev.umbra.client.tty;

import static dev.umbra.client.tty.TtyEngineFailoverTest.get;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.http.ClientTls;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.daemon.tty.AuthorizedKeys;
import dev.umbra.daemon.tty.TtyServer;
import dev.umbra.kit.auth.WebTtyTestTokens;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.webtty.WebTtyService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An edge instance's death end to end (docs/webtty.md): engine B (this JVM) homes the session (the
 * daemon, real PTY, connects to it directly); the opener and a viewer connect through a balancer
 * that sends them to engine A (its own JVM) while it accepts. A is killed with SIGKILL: no goodbye
 * reaches B, which still lists both. They fail over through the balancer to B, take their own stale
 * entries' places (the opener in control, without a control change at the daemon), get {@code
 * RESUMED edge_failover}, and what the opener types while A is gone runs once.
 */
class TtyEdgeFailoverTest {
  static Vertx vertx;
  static TestPostgres pg;
  static Bus busB;
  static WebTtyService engineB;
  static Process engineA;
  static HttpServer jwks;
  static TcpBalancer balancer;
  static TtyServer server;
  static Path home;
  static final WebTtyTestTokens tokens = new WebTtyTestTokens();
  static final UUID ws = UUID.randomUUID();
  static final String machine = "m-" + UUID.randomUUID();
  static final X25519KeyPair aliceKx = X25519KeyPair.generate();
  static final Ed25519KeyPair aliceSign = Ed25519KeyPair.generate();
  static final X25519KeyPair bobKx = X25519KeyPair.generate();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    pg = TestPostgres.createDatabase();
    home = Files.createTempDirectory("tty-edge-failover");
    String prefix = TestRedis.randomPrefix();
    jwks = FailoverEngines.jwks(vertx, tokens);
    int portA = ChildEngine.freePort();
    engineA =
        FailoverEngines.child(
            "tty-edge-failover-engine-a", pg, prefix, portA, home.resolve("engine-a"), jwks);
    busB = RedisBus.create(vertx, TestRedis.url(), prefix);
    engineB = FailoverEngines.inProcess(vertx, pg, prefix, home, busB, tokens);
    balancer = TcpBalancer.start(vertx, portA, engineB.actualPort());

    AuthorizedKeys authorized = new AuthorizedKeys(home.resolve("daemon"));
    authorized.add(aliceSign.publicKey(), "alice laptop");
    server =
        new TtyServer(
            vertx,
            TestShell.config(
                URI.create("http://127.0.0.1:" + engineB.actualPort()),
                ws,
                machine,
                () -> Future.succeededFuture(tokens.machine(ws, machine)),
                Ed25519KeyPair.generate(),
                X25519KeyPair.generate(),
                authorized,
                home),
            ClientTls.system());
    get(server.start());
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (engineA != null) {
      engineA.destroyForcibly();
    }
    if (balancer != null) {
      balancer.close();
    }
    if (engineB != null) {
      get(vertx.undeploy(engineB.deploymentID()));
      busB.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    pg.close();
  }

  @Test
  void killingTheParticipantsInstanceWhileTheHomeLivesGivesThemTheirPlacesAndControlBack()
      throws Exception {
    TtyScreen alice = new TtyScreen(() -> "; daemon " + server.stats().snapshot());
    TtyClient owner =
        get(
            TtyClient.open(
                vertx,
                options("alice", aliceSign, aliceKx, List.of(bobKx.publicKey())),
                ClientTls.system(),
                machine,
                80,
                24,
                "xterm-256color",
                alice));
    String sid = owner.sessionId();
    TtyScreen bob = new TtyScreen(() -> "");
    TtyClient viewer =
        get(
            TtyClient.join(
                vertx,
                options("bob", Ed25519KeyPair.generate(), bobKx, List.of()),
                ClientTls.system(),
                sid,
                false,
                bob));
    owner.send("echo one-$((1+1))\n".getBytes());
    alice.await("one-2", Duration.ofSeconds(10));
    bob.await("one-2", Duration.ofSeconds(10));
    // the session is homed on B, its participants come through A
    assertThat(engineB.hub().homedSessions()).isEqualTo(1);
    String ownerBefore = owner.participantId();

    long killed = System.nanoTime();
    engineA.destroyForcibly(); // SIGKILL: no goodbye reaches the home
    engineA.waitFor(10, TimeUnit.SECONDS);
    owner.send("echo after-$((40+2))\n".getBytes()); // held by the client until it is back
    alice.await("after-42", Duration.ofSeconds(15));
    Duration took = Duration.ofNanos(System.nanoTime() - killed);
    bob.await("after-42", Duration.ofSeconds(10));
    System.out.printf(
        "edge failover: typing continued %d ms after SIGKILL of the participants' instance;"
            + " opener %s; viewer %s; daemon %s%n",
        took.toMillis(),
        owner.stats().snapshot(),
        viewer.stats().snapshot(),
        server.stats().snapshot());
    assertThat(took).isLessThan(Duration.ofSeconds(5));

    for (TtyScreen s : List.of(alice, bob)) {
      WebTtyFrame notice = s.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
      assertThat(notice.getReason()).isEqualTo("edge_failover");
    }
    assertThat(owner.participantId()).isNotEqualTo(ownerBefore);
    assertThat(owner.hasControl()).isTrue();
    assertThat(viewer.hasControl()).isFalse();
    assertThat(owner.stats().get("edge_failovers")).isEqualTo(1);
    assertThat(viewer.stats().get("edge_failovers")).isEqualTo(1);
    // nothing moved at the daemon: no resume, no control change, no keystroke lost or repeated
    var daemon = server.stats();
    assertThat(daemon.get("sessions_resumed")).isZero();
    assertThat(daemon.get("input_gap")).isZero();
    assertThat(daemon.get("input_refused")).isZero();
    owner.send("echo still-$((3*3))\n".getBytes());
    alice.await("still-9", Duration.ofSeconds(10));
    bob.await("still-9", Duration.ofSeconds(10));
    owner.send("exit 3\n".getBytes());
    assertThat(alice.exit.get(10, TimeUnit.SECONDS)).isEqualTo(3);
    assertThat(bob.exit.get(10, TimeUnit.SECONDS)).isEqualTo(3);
  }

  static TtyClient.Options options(
      String subject, Ed25519KeyPair sign, X25519KeyPair kx, List<X25519PublicKey> extra) {
    return FailoverEngines.options(balancer.url(), ws, tokens, home, subject, sign, kx, extra);
  }
}
