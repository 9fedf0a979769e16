package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.controlplane.MessagingFixture.Device;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TcpProxy;
import dev.umbra.kit.testing.TestRedis;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A connected socket never misses a copy whose notice was lost (A3; docs/messaging.md, "Delivery
 * guarantees"): two instances on one database and one Redis, the sender on A, the recipient's
 * socket on B, and the link that fails cut at a {@link TcpProxy} (the shared Redis and PostgreSQL
 * are never stopped). A's failed publish is published again once Redis is back; B's lost bus
 * subscription or failed push read closes the socket with 1013 so the client fetches and
 * reconnects; an instance cut off from PostgreSQL answers 503 within seconds.
 */
@ExtendWith(VertxExtension.class)
class LiveDeliveryRecoveryTest {
  static final Duration BOUND = Duration.ofSeconds(20);

  Harness a;
  MessagingFixture.Scene scene;
  Device device;
  AgentKeys agent;
  String ws;
  String owner;
  String conversation;
  final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(a, "claude");
    device = scene.device();
    agent = scene.agent();
    ws = scene.owner().workspaceId();
    owner = scene.owner().token();
    conversation = scene.conversation();
  }

  @AfterEach
  void stop() throws Exception {
    Collections.reverse(closing);
    for (AutoCloseable c : closing) {
      c.close();
    }
    a.close();
  }

  /** Redis unreachable through {@code p} (every connection reset, new ones too) or back. */
  static final class Outage implements AutoCloseable {
    final TcpProxy p;
    volatile boolean down;
    final java.util.concurrent.ScheduledExecutorService cutter =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

    Outage(TcpProxy p) {
      this.p = p;
      cutter.scheduleAtFixedRate(
          () -> {
            if (down) {
              p.sever();
            }
          },
          50,
          50,
          TimeUnit.MILLISECONDS);
    }

    void down() {
      p.partition();
      down = true;
    }

    void up() {
      down = false;
      p.heal();
    }

    @Override
    public void close() throws Exception {
      cutter.shutdownNow();
      p.close();
    }
  }

  /** The agent's socket (what it received: {@link MessageDeliveryTest.Client}) and its close. */
  record Client(MessageDeliveryTest.Client socket, AtomicReference<String> closed) {
    List<String> pushed() {
      return socket.messageIds();
    }
  }

  Client connect(Vertx vertx, Harness h) throws Exception {
    MessageDeliveryTest.Client c = MessageDeliveryTest.connect(vertx, h, ws, agent.session());
    AtomicReference<String> closed = new AtomicReference<>();
    // set once ready: the server closes a socket only after that
    c.ws().closeHandler(v -> closed.set(c.ws().closeStatusCode() + " " + c.ws().closeReason()));
    return new Client(c, closed);
  }

  String send(Harness h) {
    return send(h, new byte[] {1, 2, 3});
  }

  String send(Harness h, byte[] ciphertext) {
    return MessagingFixture.send(h, scene, ciphertext);
  }

  List<String> pending(Harness h) {
    return scene.pending(h, agent.session());
  }

  static double notices(Harness h, String outcome) {
    Counter c =
        h.registry.find("umbra.control_plane.message_notices").tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  TcpProxy proxy(int port) throws Exception {
    TcpProxy p = new TcpProxy(port);
    closing.add(p);
    return p;
  }

  Harness instance(Vertx vertx, Map<String, String> env, URI redis) throws Exception {
    Harness h = new Harness(vertx, a, env, redis);
    closing.add(h);
    return h;
  }

  /** Another instance reaching PostgreSQL through {@code p}, waiting 1.5 s for it at most. */
  Harness overPostgresProxy(Vertx vertx, TcpProxy p) throws Exception {
    return instance(
        vertx,
        Map.of("UMBRA_PG_URL", via(a.pg.url(), p).toString(), "UMBRA_PG_TIMEOUT_MS", "1500"),
        TestRedis.url());
  }

  static URI via(URI url, TcpProxy p) {
    return URI.create(
        url.getScheme()
            + "://"
            + url.getRawAuthority().replaceAll(":\\d+$", "")
            + ":"
            + p.port()
            + (url.getRawPath() == null ? "" : url.getRawPath()));
  }

  /**
   * The sender's instance reaching Redis through {@code redisOfA}, the recipient's socket {@code
   * onB} on instance {@code b}.
   */
  record Retrying(Outage redisOfA, Harness senderSide, Harness b, Client onB) {
    /** Sends through the sender's instance while its Redis is down: the first publish fails. */
    String failedSend(LiveDeliveryRecoveryTest t, byte[] ciphertext) {
      redisOfA.down();
      String id = t.send(senderSide, ciphertext);
      Eventually.await(
          "the notice's publish failed", BOUND, () -> notices(senderSide, "failed") >= 1);
      return id;
    }

    /**
     * Redis back for the sender: {@code id} reaches the open socket, once, by a retry, and the next
     * copy after it.
     */
    void pushedOnceOnceRedisIsBack(LiveDeliveryRecoveryTest t, String id) {
      redisOfA.up();
      Eventually.await("pushed on the open socket", BOUND, () -> onB.pushed().contains(id));
      String next = t.send(senderSide);
      Eventually.await("the next one too", BOUND, () -> onB.pushed().contains(next));
      assertThat(onB.pushed()).containsExactly(id, next);
      assertThat(onB.closed().get()).isNull();
      assertThat(notices(senderSide, "retried")).isGreaterThanOrEqualTo(1);
    }
  }

  Retrying retrying(Vertx vertx) throws Exception {
    Outage redisOfA = new Outage(proxy(TestRedis.url().getPort()));
    closing.add(redisOfA);
    Harness senderSide = instance(vertx, Map.of(), via(TestRedis.url(), redisOfA.p));
    Harness b = instance(vertx, Map.of(), TestRedis.url());
    return new Retrying(redisOfA, senderSide, b, connect(vertx, b));
  }

  @Test
  void aNoticeWhosePublishFailedIsPublishedAgainAndTheOpenSocketGetsTheCopyOnce(Vertx vertx)
      throws Exception {
    Retrying r = retrying(vertx);
    MessageCanary canary = MessageCanary.watch(r.b()); // nor does the retry path show the plaintext
    try (canary) {
      r.pushedOnceOnceRedisIsBack(this, r.failedSend(this, canary.sealed()));
    }
    assertThat(canary.sawBusTraffic()).isTrue();
    assertThat(canary.leaks(a)).isEmpty();
  }

  /**
   * A notice's retry that goes out more than the seal window (30 s) after its first attempt is
   * sealed again, so the receiving instance takes it and the open socket gets the copy, once. The
   * 30 s pass on both instances' clocks (the harnesses' {@code MutableClock}, which the seal and
   * its check read), not in real time: the outbox's own deadline runs on {@link System#nanoTime}
   * and keeps retrying. Before, the body was sealed once at the first attempt, B refused the retry
   * as {@code stale} and the socket waited for its client's next fetch.
   */
  @Test
  void aNoticeRetriedPastTheSealWindowIsSealedAgainAndTheOpenSocketGetsTheCopyOnce(Vertx vertx)
      throws Exception {
    Retrying r = retrying(vertx);
    String id = r.failedSend(this, new byte[] {1, 2, 3});
    Duration past =
        Duration.ofMillis(dev.umbra.crypto.CryptoConstants.BUS_SEAL_WINDOW_MILLIS + 1_000);
    r.senderSide().clock.advance(past);
    r.b().clock.advance(past);
    r.pushedOnceOnceRedisIsBack(this, id);
    Counter stale =
        r.b()
            .registry
            .find("umbra.control_plane.message_notices_refused")
            .tag("reason", "stale")
            .counter();
    assertThat(stale == null ? 0 : stale.count()).as("B refused no retry as stale").isZero();
  }

  @Test
  void aSendWhoseTransactionRolledBackPublishesNoNotice(Vertx vertx) throws Exception {
    // fail closed: notices follow a commit, never an attempt (docs/messaging.md, "Sending")
    Client onA = connect(vertx, a);
    String id = send(a);
    Eventually.await("pushed", BOUND, () -> onA.pushed().contains(id));
    // the agent sends with the id the device holds: its transaction rolls back
    Harness.Response stolen =
        a.call(
            "POST",
            "/v1/workspaces/" + ws + "/messages",
            agent.session(),
            MessagingFixture.message(id, conversation, device.id(), new byte[] {9}));
    assertThat(stolen.status()).as(stolen.body().encode()).isEqualTo(409);
    String next = send(a);
    // the publisher answers in order, and before the copy it announced can have been read and
    // pushed: a notice of the refused send (to the device, which listens nowhere) would be
    // counted by now
    Eventually.await("the next one pushed", BOUND, () -> onA.pushed().contains(next));
    Eventually.await("its notice counted", BOUND, () -> notices(a, "published") >= 2);
    assertThat(notices(a, "published")).isEqualTo(2);
    assertThat(notices(a, "no_receiver")).isZero();
    assertThat(onA.pushed()).containsExactly(id, next);
  }

  @Test
  void aLostBusSubscriptionClosesTheSocketWith1013AndTheClientGetsTheCopyOnce(Vertx vertx)
      throws Exception {
    Outage redisOfB = new Outage(proxy(TestRedis.url().getPort()));
    closing.add(redisOfB);
    Harness b = instance(vertx, Map.of(), via(TestRedis.url(), redisOfB.p));
    Client first = connect(vertx, b);
    redisOfB.down();
    Eventually.await("closed: try again later", BOUND, () -> first.closed().get() != null);
    assertThat(first.closed().get()).isEqualTo("1013 bus_interrupted");
    String id = send(a); // published while B listens to nothing
    // the client's rule on 1013: fetch what is pending now, then reconnect
    List<String> shown = new ArrayList<>(pending(b));
    assertThat(shown).containsExactly(id);
    redisOfB.up();
    Client second = connect(vertx, b);
    pending(b).stream().filter(x -> !shown.contains(x)).forEach(shown::add);
    String next = send(a);
    Eventually.await("live again on B", BOUND, () -> second.pushed().contains(next));
    second.pushed().stream().filter(x -> !shown.contains(x)).forEach(shown::add);
    assertThat(shown).containsExactly(id, next);
    assertThat(first.pushed()).isEmpty();
    assertThat(second.pushed()).containsExactly(next);
  }

  @Test
  void aFailedPushReadClosesTheSocketWith1013AndTheCopyComesOnceAfter(Vertx vertx)
      throws Exception {
    TcpProxy pgOfB = proxy(a.pg.url().getPort());
    Harness b = overPostgresProxy(vertx, pgOfB);
    Client first = connect(vertx, b);
    pgOfB.partition(); // B alone is cut off from PostgreSQL
    // a small copy rides in its notice: B pushes it without PostgreSQL
    String small = send(a);
    Eventually.await("pushed from its notice", BOUND, () -> first.pushed().contains(small));
    // a copy too large for its notice must be read, and the read fails
    String id = send(a, new byte[40 * 1024]); // over the 32 KiB a notice carries
    Eventually.await("closed: try again later", BOUND, () -> first.closed().get() != null);
    assertThat(first.closed().get()).isEqualTo("1013 push_failed");
    assertThat(first.pushed()).containsExactly(small);
    pgOfB.heal();
    Client second = connect(vertx, b);
    List<String> shown = new ArrayList<>(pending(b));
    assertThat(shown).containsExactly(small, id);
    String next = send(a);
    Eventually.await("live again on B", BOUND, () -> second.pushed().contains(next));
    assertThat(second.pushed()).containsExactly(next);
  }

  @Test
  void anInstanceCutOffFromPostgresAnswers503WithinSeconds(Vertx vertx) throws Exception {
    TcpProxy pgOfB = proxy(a.pg.url().getPort());
    Harness b = overPostgresProxy(vertx, pgOfB);
    assertThat(pending(b)).isEmpty(); // connections pooled while PostgreSQL answers
    pgOfB.partition();
    for (int i = 0; i < 3; i++) {
      long started = System.nanoTime();
      Harness.Response r = b.call("GET", "/v1/workspaces/" + ws + "/agents", owner, null);
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertThat(r.status()).as(r.body().encode()).isEqualTo(503);
      assertThat(r.errorCode()).isEqualTo("unavailable");
      assertThat(took).isLessThan(Duration.ofSeconds(6));
    }
    pgOfB.heal();
    Eventually.await(
        "answers again",
        BOUND,
        () -> b.call("GET", "/v1/workspaces/" + ws + "/agents", owner, null).status() == 200);
  }
}
