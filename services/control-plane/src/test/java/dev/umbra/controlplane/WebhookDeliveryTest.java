package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.controlplane.MessagingFixture.Device;
import dev.umbra.crypto.secret.WebhookSignatures;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Durable notification webhook deliveries (docs/messaging.md, "Notifications"): queued with the
 * message in PostgreSQL, swept by every instance, each signal sent once by one of them, retried on
 * the schedule, dropped with the webhook or the member, bounded per member, tenant-isolated.
 */
@ExtendWith(VertxExtension.class)
class WebhookDeliveryTest {
  Harness a;
  Harness b;
  Harness.Owner alice;
  Device device;
  AgentKeys agent;
  String conversation;
  byte[] secret;
  HttpServer receiver;

  /** Answers 503 while true; records each signal answered 2xx. */
  volatile boolean failing = true;

  /** From this call on (1-based), requests are held unanswered in {@link #held}. */
  volatile int holdFrom = Integer.MAX_VALUE;

  final List<HttpServerRequest> held = new CopyOnWriteArrayList<>();

  /** When set, answers every request (after its body was read) instead of the rules above. */
  volatile java.util.function.Consumer<HttpServerRequest> answer;

  final AtomicInteger calls = new AtomicInteger();
  final List<Map.Entry<String, byte[]>> received = new CopyOnWriteArrayList<>();
  final Map<String, AtomicInteger> perMessage = new ConcurrentHashMap<>();

  /** Instance A with {@code firstRetryMs}, alice, her device, her agent and her webhook. */
  void open(Vertx vertx, long firstRetryMs) throws Exception {
    a = new Harness(vertx, env(firstRetryMs));
    MessagingFixture.Scene scene = MessagingFixture.scene(a, "claude");
    alice = scene.owner();
    device = scene.device();
    agent = scene.agent();
    conversation = scene.conversation();
    receiver =
        vertx
            .createHttpServer()
            .requestHandler(
                req ->
                    req.body()
                        .onSuccess(
                            body -> {
                              if (answer != null) {
                                calls.incrementAndGet();
                                answer.accept(req);
                                return;
                              }
                              if (calls.incrementAndGet() >= holdFrom) {
                                held.add(req); // an attempt still running
                                return;
                              }
                              if (failing) {
                                req.response().setStatusCode(503).end();
                                return;
                              }
                              received.add(
                                  Map.entry(req.getHeader("X-Umbra-Signature"), body.getBytes()));
                              String id = new JsonObject(body).getString("message_id");
                              perMessage
                                  .computeIfAbsent(id, k -> new AtomicInteger())
                                  .incrementAndGet();
                              req.response().setStatusCode(204).end();
                            }))
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    String url = "http://127.0.0.1:" + receiver.actualPort() + "/hook";
    Harness.Response set = a.call("PUT", hook(), alice.token(), new JsonObject().put("url", url));
    assertThat(set.status()).as(set.body().encode()).isEqualTo(200);
    secret = HexFormat.of().parseHex(set.body().getString("secret"));
  }

  static Map<String, String> env(long firstRetryMs) {
    Map<String, String> env = new HashMap<>();
    env.put("UMBRA_WEBHOOK_ALLOW_HTTP", "true");
    // the receiver is on 127.0.0.1: internal addresses allowed, as for development
    env.put("UMBRA_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true");
    env.put("UMBRA_WEBHOOK_FIRST_RETRY_MS", Long.toString(firstRetryMs));
    return env;
  }

  @AfterEach
  void stop() throws Exception {
    if (receiver != null) {
      receiver.close();
    }
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  String hook() {
    return "/v1/workspaces/" + alice.workspaceId() + "/notification-webhook";
  }

  /** The agent sends a message to alice through {@code h}; returns its id. */
  String agentSends(Harness h) {
    String id = UUID.randomUUID().toString();
    Harness.Response sent =
        h.call(
            "POST",
            "/v1/workspaces/" + alice.workspaceId() + "/messages",
            agent.session(),
            MessagingFixture.message(id, conversation, device.id(), new byte[] {7, 7, 7, 7}));
    assertThat(sent.status()).as(sent.body().encode()).isEqualTo(200);
    return id;
  }

  long rows(String where) throws Exception {
    return a.pg.number("SELECT count(*) FROM control_plane.webhook_deliveries " + where);
  }

  /** Awaits {@code condition}; on failure the message shows the clock and the table's rows. */
  void awaitRows(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
    try {
      Eventually.await(what, Duration.ofSeconds(20), condition);
    } catch (AssertionError e) {
      throw new AssertionError(
          e.getMessage() + "; clock " + a.clock.instant() + "; rows:\n" + table(), e);
    }
  }

  /** The table's rows (ids, attempts, times), for a failure message. */
  String table() throws Exception {
    StringBuilder sb = new StringBuilder();
    try (Connection c = a.pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT message_id, attempts, due_at, created_at FROM"
                    + " control_plane.webhook_deliveries ORDER BY id")) {
      while (rs.next()) {
        sb.append(rs.getString(1)).append(' ').append(rs.getInt(2)).append(' ');
        sb.append(rs.getObject(3)).append(' ').append(rs.getObject(4)).append('\n');
      }
    }
    return sb.toString();
  }

  /** Rows waiting for their next attempt at {@code due} (not in flight). */
  long dueAt(Instant due) throws Exception {
    // PostgreSQL keeps microseconds (the client truncates, a literal rounds): within 10 µs
    return rows("WHERE abs(extract(epoch FROM due_at - '" + due + "'::timestamptz)) < 0.00001");
  }

  static int sweep(Harness h) {
    return await(h.service.messaging().sweepWebhooks());
  }

  static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  String metrics(Harness h) throws Exception {
    return java.net.http.HttpClient.newHttpClient()
        .send(
            java.net.http.HttpRequest.newBuilder(h.base.resolve("/metrics")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString())
        .body();
  }

  static String counted(String outcome, int n) {
    return "umbra_control_plane_webhooks_total{outcome=\"" + outcome + "\"} " + n + ".0";
  }

  @Test
  void aDeliveryPendingWhenItsInstanceStopsIsDeliveredByAnotherWithAValidSignature(Vertx vertx)
      throws Exception {
    open(vertx, 10);
    String id = agentSends(a);
    Eventually.await(
        "first attempt refused by the receiver", Duration.ofSeconds(20), () -> calls.get() == 1);
    awaitRows("the retry queued", () -> dueAt(a.clock.instant().plusMillis(10)) == 1);
    a.stopService();
    failing = false;
    b = new Harness(vertx, a, env(10));
    b.clock.advance(Duration.ofSeconds(1));
    Eventually.await("delivered by B", Duration.ofSeconds(20), () -> received.size() == 1);
    Map.Entry<String, byte[]> got = received.get(0);
    assertThat(WebhookSignatures.verify(secret, got.getValue(), got.getKey())).isTrue();
    JsonObject body = new JsonObject(new String(got.getValue(), StandardCharsets.UTF_8));
    assertThat(body.fieldNames())
        .containsExactlyInAnyOrder("conversation_id", "message_id", "sender");
    assertThat(body.getString("message_id")).isEqualTo(id);
    assertThat(body.getString("sender")).isEqualTo("claude");
    Eventually.await("the row deleted", Duration.ofSeconds(20), () -> rows("") == 0);
    assertThat(metrics(b)).contains(counted("delivered", 1));
  }

  @Test
  void twoInstancesSweepingAtOnceSendEachSignalOnce(Vertx vertx) throws Exception {
    open(vertx, 120_000);
    b = new Harness(vertx, a, env(120_000));
    int n = 80; // more than one instance claims at once (64 in flight): both take part
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(agentSends(a));
    }
    Instant retry = a.clock.instant().plus(Duration.ofMinutes(2)).minusSeconds(1);
    // B's clock is ahead of A's: B may have made some first attempts (its due times are later)
    Eventually.await(
        "every first attempt failed",
        Duration.ofSeconds(30),
        () -> rows("WHERE attempts = 1 AND due_at >= '" + retry + "'") == n);
    failing = false;
    a.clock.advance(Duration.ofMinutes(3));
    b.clock.advance(Duration.ofMinutes(3));
    List<Future<Integer>> sweeps = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      sweeps.add(a.service.messaging().sweepWebhooks());
      sweeps.add(b.service.messaging().sweepWebhooks());
    }
    await(Future.join(sweeps));
    Eventually.await("all delivered", Duration.ofSeconds(30), () -> rows("") == 0);
    assertThat(perMessage.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(perMessage.values()).allMatch(c -> c.get() == 1);
    assertThat(received).hasSize(n);
  }

  @Test
  void retriesFollowTheScheduleAndEndAfterTheFourthAttempt(Vertx vertx) throws Exception {
    open(vertx, 1_000);
    agentSends(a);
    Eventually.await("attempt 1", Duration.ofSeconds(20), () -> calls.get() == 1);
    Instant due = a.clock.instant().plusSeconds(1);
    for (int attempt = 2; attempt <= 4; attempt++) {
      Instant expected = due;
      awaitRows("retry queued before attempt " + attempt, () -> dueAt(expected) == 1);
      a.clock.advance(Duration.between(a.clock.instant(), due).minusMillis(1));
      assertThat(sweep(a)).as("not due a millisecond early").isZero();
      a.clock.advance(Duration.ofMillis(1));
      int n = attempt;
      Eventually.await("attempt " + n, Duration.ofSeconds(20), () -> calls.get() == n);
      due = due.plusSeconds(1L << (2 * (attempt - 1))); // 1 s, 4 s, 16 s
    }
    Eventually.await("given up", Duration.ofSeconds(20), () -> rows("") == 0);
    assertThat(metrics(a)).contains(counted("failed", 1)).contains(counted("delivered", 0));
    a.clock.advance(Duration.ofHours(1));
    sweep(a);
    assertThat(calls.get()).isEqualTo(4);
  }

  @Test
  void anAttemptThatOutlivesItsLeaseIsTakenOverAndItsLateFailureMovesNothing(Vertx vertx)
      throws Exception {
    open(vertx, 1_000);
    b = new Harness(vertx, a, env(1_000));
    // B's clock a minute behind A's: nothing A queues is due for B until B's clock is moved
    b.clock.advance(Duration.between(b.clock.instant(), a.clock.instant()).minusMinutes(1));
    holdFrom = 1;
    agentSends(a);
    Eventually.await("A's first attempt running", Duration.ofSeconds(20), () -> held.size() == 1);
    assertThat(rows("WHERE attempts = 1")).isEqualTo(1);
    b.clock.advance(Duration.ofMinutes(1).plusSeconds(29)); // A's lease (30 s) not over yet
    assertThat(sweep(b)).as("leased to A").isZero();
    b.clock.advance(Duration.ofSeconds(2));
    Eventually.await("B took it over", Duration.ofSeconds(20), () -> held.size() == 2);
    Instant bLease = b.clock.instant().plusSeconds(30);
    assertThat(rows("WHERE attempts = 2")).isEqualTo(1);
    held.get(0).response().setStatusCode(503).end(); // A's attempt fails after its lease
    a.stopService(); // returns once A recorded what it had in flight
    assertThat(dueAt(bLease))
        .as("B's claim (attempt 2, leased until B's clock + 30 s) untouched by A's late failure")
        .isEqualTo(1);
    assertThat(rows("WHERE attempts = 2")).isEqualTo(1);
    held.get(1).response().setStatusCode(204).end();
    awaitRows("delivered by B", () -> rows("") == 0);
    assertThat(metrics(b)).contains(counted("delivered", 1)).contains(counted("failed", 0));
    b.clock.advance(Duration.ofHours(1));
    sweep(b);
    assertThat(calls.get()).as("two attempts in all").isEqualTo(2);
  }

  @Test
  void aFourthAttemptLostWithItsLeaseIsCountedFailedAndNeverSentAgain(Vertx vertx)
      throws Exception {
    open(vertx, 10);
    holdFrom = 4;
    agentSends(a);
    for (int attempt = 1; attempt <= 3; attempt++) {
      int n = attempt;
      Eventually.await("attempt " + n, Duration.ofSeconds(20), () -> calls.get() == n);
      Instant due = a.clock.instant().plusMillis(10L << (2 * (attempt - 1))); // 10, 40, 160 ms
      awaitRows("retry queued after attempt " + n, () -> dueAt(due) == 1);
      a.clock.advance(Duration.ofSeconds(1));
    }
    Eventually.await("the fourth attempt running", Duration.ofSeconds(20), () -> held.size() == 1);
    Instant leaseEnd = a.clock.instant().plusSeconds(30);
    assertThat(dueAt(leaseEnd)).isEqualTo(1);
    // A holds the last attempt and never records it (as if it died): B sweeps after the lease
    b = new Harness(vertx, a, env(10));
    b.clock.advance(Duration.between(b.clock.instant(), leaseEnd).plusSeconds(1));
    awaitRows("the lost attempt's row deleted", () -> rows("") == 0);
    assertThat(metrics(b)).contains(counted("failed", 1)).contains(counted("delivered", 0));
    held.get(0).response().setStatusCode(503).end();
    a.stopService();
    b.clock.advance(Duration.ofHours(1));
    sweep(b);
    assertThat(calls.get()).as("four attempts, none after the last").isEqualTo(4);
  }

  @Test
  void removingTheWebhookOrTheMemberDropsPendingDeliveries(Vertx vertx) throws Exception {
    open(vertx, 120_000);
    agentSends(a);
    Eventually.await("queued", Duration.ofSeconds(20), () -> rows("WHERE attempts = 1") == 1);
    assertThat(a.call("DELETE", hook(), alice.token(), null).status()).isEqualTo(204);
    assertThat(rows("")).as("gone with the webhook").isZero();

    String url = "http://127.0.0.1:" + receiver.actualPort() + "/hook";
    assertThat(a.call("PUT", hook(), alice.token(), new JsonObject().put("url", url)).status())
        .isEqualTo(200);
    agentSends(a);
    Eventually.await("queued again", Duration.ofSeconds(20), () -> rows("WHERE attempts = 1") == 1);
    try (Connection c = a.pg.ownerConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "DELETE FROM control_plane.members WHERE account_id = '" + alice.accountId() + "'");
    }
    failing = false;
    a.clock.advance(Duration.ofMinutes(3));
    Eventually.await("dropped", Duration.ofSeconds(20), () -> rows("") == 0);
    assertThat(received).as("nothing sent for a removed member").isEmpty();
    assertThat(metrics(a)).contains(counted("dropped", 1));
  }

  /**
   * A receiver (any member's URL) that answers 2xx and then sends a body that never ends, slowly or
   * as fast as it can, must not hold the control plane's connection: the attempt deadline and the
   * answer's size bound still apply after the status, and the connection is closed. Before, the
   * status alone ended the attempt and the body was left running: a member with hosts under a
   * wildcard name could make the control plane keep sockets open without end.
   */
  @Test
  void anAnswerWhoseBodyTricklesOrFloodsWithoutEndIsCutOffAndItsConnectionClosed(Vertx vertx)
      throws Exception {
    open(vertx, 120_000);
    AtomicInteger closed = new AtomicInteger();
    Buffer chunk = Buffer.buffer(new byte[16 * 1024]);
    answer =
        req -> {
          HttpServerResponse resp = req.response().setChunked(true).setStatusCode(200);
          resp.write("{");
          long t = -1;
          if (calls.get() == 1) {
            t = vertx.setPeriodic(100, x -> resp.write(" ")); // a byte now and then
          } else {
            flood(resp, chunk);
          }
          long trickle = t;
          req.connection()
              .closeHandler(
                  v -> {
                    vertx.cancelTimer(trickle);
                    closed.incrementAndGet();
                  });
        };
    agentSends(a);
    Eventually.await(
        "the trickle's connection closed", Duration.ofSeconds(30), () -> closed.get() == 1);
    awaitRows("the first signal delivered (its status was 2xx)", () -> rows("") == 0);
    agentSends(a);
    Eventually.await(
        "the flood's connection closed", Duration.ofSeconds(30), () -> closed.get() == 2);
    awaitRows("the second signal delivered", () -> rows("") == 0);
    assertThat(metrics(a)).contains(counted("delivered", 2));
  }

  /** Writes {@code chunk} again each time the last one was written, until its connection closes. */
  static void flood(HttpServerResponse resp, Buffer chunk) {
    resp.write(chunk).onSuccess(v -> flood(resp, chunk));
  }

  @Test
  void pendingDeliveriesPerMemberAreCappedAndCoalesced(Vertx vertx) throws Exception {
    open(vertx, 120_000);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 105; i++) {
      ids.add(agentSends(a));
    }
    assertThat(rows("")).isEqualTo(100);
    assertThat(metrics(a)).contains(counted("coalesced", 5));
    // the newest signals are kept: the oldest of the same conversation made room
    for (String id : ids.subList(5, 105)) {
      assertThat(rows("WHERE message_id = '" + id + "'")).as(id).isEqualTo(1);
    }
  }

  @Test
  void anotherWorkspaceSeesNoDeliveryAndTheSweepFunctionReturnsWorkspaceIdsOnly(Vertx vertx)
      throws Exception {
    open(vertx, 120_000);
    agentSends(a);
    Eventually.await("queued", Duration.ofSeconds(20), () -> rows("") == 1);
    try (Connection c = a.pg.ownerConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL ROLE " + a.service.database().appRole());
        st.execute("SELECT set_config('umbra.workspace_id', '" + UUID.randomUUID() + "', true)");
        assertThat(count(st, "SELECT count(*) FROM control_plane.webhook_deliveries")).isZero();
        assertThat(st.executeUpdate("DELETE FROM control_plane.webhook_deliveries")).isZero();
        st.execute("SELECT set_config('umbra.workspace_id', '" + alice.workspaceId() + "', true)");
        assertThat(count(st, "SELECT count(*) FROM control_plane.webhook_deliveries")).isOne();
        st.execute("SELECT set_config('umbra.workspace_id', '', true)");
        assertThat(count(st, "SELECT count(*) FROM control_plane.webhook_deliveries")).isZero();
        try (ResultSet rs =
            st.executeQuery(
                "SELECT * FROM control_plane.webhook_due_workspaces(now() + interval '1 day', 10)")) {
          assertThat(rs.getMetaData().getColumnCount()).isEqualTo(1);
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString("workspace_id")).isEqualTo(alice.workspaceId());
          assertThat(rs.next()).isFalse();
        }
      }
      c.rollback();
    }
  }

  static long count(Statement st, String sql) throws Exception {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
