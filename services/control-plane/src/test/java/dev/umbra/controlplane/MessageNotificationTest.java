package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.controlplane.MessagingFixture.Device;
import dev.umbra.crypto.secret.WebhookSignatures;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Notifications (C3): a member's webhook gets a signed delivery signal with ids and the agent's
 * name only, retried after a failure; never content or ciphertext.
 */
@ExtendWith(VertxExtension.class)
class MessageNotificationTest {
  Harness h;
  Harness.Owner alice;
  Device device;
  AgentKeys agent;
  String conversation;
  HttpServer receiver;
  final List<Map.Entry<String, byte[]>> received = new CopyOnWriteArrayList<>();
  final AtomicInteger calls = new AtomicInteger();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    // the receiver is on 127.0.0.1: internal addresses allowed, as for development
    open(vertx, Map.of("UMBRA_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true"));
  }

  /** A control plane with {@code env} (and http webhooks), alice, her device, her agent. */
  void open(Vertx vertx, Map<String, String> env) throws Exception {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.putIfAbsent("UMBRA_WEBHOOK_ALLOW_HTTP", "true");
    all.put("UMBRA_WEBHOOK_FIRST_RETRY_MS", "10");
    h = new Harness(vertx, all);
    MessagingFixture.Scene scene = MessagingFixture.scene(h, "claude");
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
                            b -> {
                              // the first attempt fails: the notifier must retry
                              if (calls.getAndIncrement() == 0) {
                                req.response().setStatusCode(503).end();
                                return;
                              }
                              received.add(
                                  Map.entry(req.getHeader("X-Umbra-Signature"), b.getBytes()));
                              req.response().setStatusCode(204).end();
                            }))
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  /** The deployment's default: webhooks to internal addresses refused. */
  void reopenRefusingInternalAddresses(Vertx vertx) throws Exception {
    stop();
    calls.set(0);
    open(vertx, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    receiver.close();
    h.close();
  }

  String hook() {
    return "/v1/workspaces/" + alice.workspaceId() + "/notification-webhook";
  }

  @Test
  void anAgentsMessageSignalsTheMembersWebhookWithIdsAndANameOnly() {
    String url = "http://127.0.0.1:" + receiver.actualPort() + "/hook";
    Harness.Response set = h.call("PUT", hook(), alice.token(), new JsonObject().put("url", url));
    assertThat(set.status()).as(set.body().encode()).isEqualTo(200);
    byte[] secret = HexFormat.of().parseHex(set.body().getString("secret"));
    JsonObject shown = h.call("GET", hook(), alice.token(), null).body();
    assertThat(shown.getString("url")).isEqualTo(url);
    assertThat(shown.containsKey("secret")).as("the secret is shown once").isFalse();
    byte[] ciphertext = new byte[] {7, 7, 7, 7, 7, 7, 7, 7};
    String toAgent = UUID.randomUUID().toString();
    h.call(
        "POST",
        "/v1/workspaces/" + alice.workspaceId() + "/messages",
        device.session(),
        MessagingFixture.message(toAgent, conversation, agent.id(), ciphertext));
    String id = UUID.randomUUID().toString();
    Harness.Response sent =
        h.call(
            "POST",
            "/v1/workspaces/" + alice.workspaceId() + "/messages",
            agent.session(),
            MessagingFixture.message(id, conversation, device.id(), ciphertext));
    assertThat(sent.status()).isEqualTo(200);
    Eventually.await("the first attempt", Duration.ofSeconds(20), () -> calls.get() == 1);
    // the retry is due 10 ms later on the service's clock
    Eventually.await(
        "notified after a retry",
        Duration.ofSeconds(20),
        () -> {
          h.clock.advance(Duration.ofMillis(10));
          return !received.isEmpty();
        });
    assertThat(calls.get()).isEqualTo(2);
    Map.Entry<String, byte[]> got = received.get(0);
    assertThat(WebhookSignatures.verify(secret, got.getValue(), got.getKey())).isTrue();
    assertThat(WebhookSignatures.verify(new byte[32], got.getValue(), got.getKey())).isFalse();
    JsonObject body =
        new JsonObject(new String(got.getValue(), java.nio.charset.StandardCharsets.UTF_8));
    assertThat(body.fieldNames())
        .containsExactlyInAnyOrder("conversation_id", "message_id", "sender");
    assertThat(body.getString("message_id")).isEqualTo(id);
    assertThat(body.getString("conversation_id")).isEqualTo(conversation);
    assertThat(body.getString("sender")).isEqualTo("claude");
    assertThat(received).as("the member's own message to the agent notifies nobody").hasSize(1);
    assertThat(h.call("DELETE", hook(), alice.token(), null).status()).isEqualTo(204);
    assertThat(h.call("GET", hook(), alice.token(), null).status()).isEqualTo(404);
  }

  @Test
  void onlyAbsoluteHttpUrlsWithoutUserInfoAreAccepted() {
    for (String bad :
        List.of("ftp://example.com/x", "https://user:pw@example.com/", "not a url", "/relative")) {
      Harness.Response r = h.call("PUT", hook(), alice.token(), new JsonObject().put("url", bad));
      assertThat(r.status()).as(bad).isEqualTo(400);
      assertThat(r.errorField()).isEqualTo("url");
    }
    assertThat(
            h.call(
                    "PUT",
                    "/v1/workspaces/" + UUID.randomUUID() + "/notification-webhook",
                    alice.token(),
                    new JsonObject().put("url", "https://example.com/"))
                .status())
        .as("not a member there")
        .isEqualTo(404);
  }

  @Test
  void anHttpUrlIsRefusedNamingTheDevelopmentSettingThatAdmitsIt(Vertx vertx) throws Exception {
    stop();
    open(vertx, Map.of("UMBRA_WEBHOOK_ALLOW_HTTP", "false"));
    Harness.Response r =
        h.call("PUT", hook(), alice.token(), new JsonObject().put("url", "http://8.8.8.8/hook"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorField()).isEqualTo("url");
    assertThat(r.body().getJsonObject("error").getString("message"))
        .contains("https")
        .contains("UMBRA_WEBHOOK_ALLOW_HTTP=true");
  }

  @Test
  void webhooksToLoopbackPrivateOrLinkLocalAddressesAreRefused(Vertx vertx) throws Exception {
    reopenRefusingInternalAddresses(vertx);
    for (String inward :
        List.of(
            "http://127.0.0.1:" + receiver.actualPort() + "/hook",
            "https://localhost/hook",
            "https://10.1.2.3/hook",
            "https://192.168.1.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://100.100.100.100/hook",
            "https://[::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://[fd00:ec2::254]/hook",
            "https://0.0.0.0/hook")) {
      Harness.Response r =
          h.call("PUT", hook(), alice.token(), new JsonObject().put("url", inward));
      assertThat(r.status()).as(inward + ": " + r.body().encode()).isEqualTo(400);
      assertThat(r.errorField()).isEqualTo("url");
    }
    assertThat(h.call("GET", hook(), alice.token(), null).status()).isEqualTo(404);
    Harness.Response r =
        h.call("PUT", hook(), alice.token(), new JsonObject().put("url", "https://[::1]/hook"));
    assertThat(r.body().getJsonObject("error").getString("message"))
        .as("the refusal says why, and what a development deployment sets")
        .contains("loopback, private or link-local")
        .contains("UMBRA_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true");
    Harness.Response outward =
        h.call("PUT", hook(), alice.token(), new JsonObject().put("url", "https://8.8.8.8/hook"));
    assertThat(outward.status()).as(outward.body().encode()).isEqualTo(200);
  }

  @Test
  void aStoredWebhookThatNowPointsInwardIsNeverCalledNorRetried(Vertx vertx) throws Exception {
    reopenRefusingInternalAddresses(vertx);
    // stored before the rule, or a name that resolves inward since (DNS rebinding)
    try (java.sql.Connection c = h.pg.ownerConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                "INSERT INTO control_plane.member_webhooks"
                    + " (workspace_id, account_id, url, secret, created_at)"
                    + " VALUES (?::uuid, ?::uuid, ?, ?, now())")) {
      st.setString(1, alice.workspaceId());
      st.setString(2, alice.accountId());
      st.setString(3, "http://127.0.0.1:" + receiver.actualPort() + "/hook");
      st.setBytes(4, new byte[32]);
      st.executeUpdate();
    }
    h.call(
        "POST",
        "/v1/workspaces/" + alice.workspaceId() + "/messages",
        agent.session(),
        MessagingFixture.message(
            UUID.randomUUID().toString(), conversation, device.id(), new byte[] {7, 7, 7, 7}));
    Eventually.await(
        "the delivery refused",
        Duration.ofSeconds(20),
        () -> metrics().contains("outcome=\"refused\"} 1.0"));
    assertThat(calls.get()).isZero();
    assertThat(metrics()).doesNotContain("outcome=\"failed\"} 1.0");
    try (java.sql.Connection c = h.pg.ownerConnection();
        java.sql.ResultSet rs =
            c.createStatement()
                .executeQuery("SELECT count(*) FROM control_plane.webhook_deliveries")) {
      rs.next();
      assertThat(rs.getLong(1)).as("not queued for a retry").isZero();
    }
  }

  String metrics() throws Exception {
    return java.net.http.HttpClient.newHttpClient()
        .send(
            java.net.http.HttpRequest.newBuilder(h.base.resolve("/metrics")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
