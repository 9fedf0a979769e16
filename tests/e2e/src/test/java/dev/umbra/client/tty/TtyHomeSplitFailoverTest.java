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
 * A home's death while the participants' edge lives, end to end (docs/webtty.md, "A home's death"):
 * engine B (its own JVM) homes the session (the daemon, real PTY, reaches it through a balancer
 * that prefers B, then C); the opener and a viewer are connected to engine A (this JVM), which
 * lives. B is killed with SIGKILL; the daemon resumes on C (this JVM); C's takeover notice makes A
 * close the participants' connections with {@code home_moved}; their clients fail over through A to
 * C with the signed document, the same session, roles and keys, and what the opener types meanwhile
 * runs once, within 5 s.
 */
class TtyHomeSplitFailoverTest {
  static Vertx vertx;
  static TestPostgres pg;
  static Bus busA;
  static Bus busC;
  static WebTtyService engineA;
  static WebTtyService engineC;
  static Process engineB;
  static HttpServer jwks;
  static TcpBalancer daemonBalancer;
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
    home = Files.createTempDirectory("tty-home-split");
    String prefix = TestRedis.randomPrefix();
    jwks = FailoverEngines.jwks(vertx, tokens);
    int portB = ChildEngine.freePort();
    engineB =
        FailoverEngines.child(
            "tty-home-split-engine-b", pg, prefix, portB, home.resolve("engine-b"), jwks);
    busA = RedisBus.create(vertx, TestRedis.url(), prefix);
    engineA = FailoverEngines.inProcess(vertx, pg, prefix, home.resolve("engine-a"), busA, tokens);
    busC = RedisBus.create(vertx, TestRedis.url(), prefix);
    engineC = FailoverEngines.inProcess(vertx, pg, prefix, home.resolve("engine-c"), busC, tokens);
    daemonBalancer = TcpBalancer.start(vertx, portB, engineC.actualPort());

    AuthorizedKeys authorized = new AuthorizedKeys(home.resolve("daemon"));
    authorized.add(aliceSign.publicKey(), "alice laptop");
    server =
        new TtyServer(
            vertx,
            TestShell.config(
                daemonBalancer.url(),
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
    if (engineB != null) {
      engineB.destroyForcibly();
    }
    if (daemonBalancer != null) {
      daemonBalancer.close();
    }
    for (var e : List.of(engineA, engineC)) {
      if (e != null) {
        get(vertx.undeploy(e.deploymentID()));
      }
    }
    for (Bus b : List.of(busA, busC)) {
      if (b != null) {
        b.close();
      }
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    pg.close();
  }

  @Test
  void killingTheHomeWhileTheParticipantsEdgeLivesMovesThemToTheNewHomeWithinFiveSeconds()
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
    // the session is homed on B; its participants come through A, C homes nothing
    assertThat(engineA.hub().homedSessions()).isZero();
    assertThat(engineC.hub().homedSessions()).isZero();

    long killed = System.nanoTime();
    engineB.destroyForcibly(); // SIGKILL: the home is gone, the participants' sockets to A live
    engineB.waitFor(10, TimeUnit.SECONDS);
    owner.send("echo after-$((40+2))\n".getBytes());
    alice.await("after-42", Duration.ofSeconds(15));
    Duration took = Duration.ofNanos(System.nanoTime() - killed);
    bob.await("after-42", Duration.ofSeconds(10));
    System.out.printf(
        "home split: typing continued %d ms after SIGKILL of the home instance (edge lived);"
            + " opener %s; viewer %s; daemon %s%n",
        took.toMillis(),
        owner.stats().snapshot(),
        viewer.stats().snapshot(),
        server.stats().snapshot());
    assertThat(took).isLessThan(Duration.ofSeconds(5));

    // the same session, roles and keys, homed on C; told what happened, with the signed document
    assertThat(engineC.hub().homedSessions()).isEqualTo(1);
    assertThat(owner.sessionId()).isEqualTo(sid);
    assertThat(viewer.sessionId()).isEqualTo(sid);
    for (TtyScreen s : List.of(alice, bob)) {
      WebTtyFrame notice = s.awaitEvent(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
      assertThat(notice.getReason()).isEqualTo("engine_failover");
      assertThat(notice.hasResume()).isTrue();
    }
    assertThat(owner.hasControl()).isTrue();
    assertThat(viewer.hasControl()).isFalse();
    assertThat(owner.stats().get("engine_failovers")).isEqualTo(1);
    assertThat(viewer.stats().get("engine_failovers")).isEqualTo(1);
    var daemon = server.stats();
    assertThat(daemon.get("sessions_resumed")).isEqualTo(1);
    assertThat(daemon.get("input_gap")).isZero();
    assertThat(daemon.get("input_refused")).isEqualTo(daemon.get("input_refused_replayed"));
    owner.send("echo still-$((3*3))\n".getBytes());
    alice.await("still-9", Duration.ofSeconds(10));
    bob.await("still-9", Duration.ofSeconds(10));
    assertThat(alice.integrity).isEmpty();
    owner.send("exit 3\n".getBytes());
    assertThat(alice.exit.get(10, TimeUnit.SECONDS)).isEqualTo(3);
    assertThat(bob.exit.get(10, TimeUnit.SECONDS)).isEqualTo(3);
  }

  static TtyClient.Options options(
      String subject, Ed25519KeyPair sign, X25519KeyPair kx, List<X25519PublicKey> extra) {
    return FailoverEngines.options(
        URI.create("http://127.0.0.1:" + engineA.actualPort()),
        ws,
        tokens,
        home,
        subject,
        sign,
        kx,
        extra);
  }
}
