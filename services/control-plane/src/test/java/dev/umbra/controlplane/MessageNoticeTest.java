package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.controlplane.MessageDeliveryTest.Client;
import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.secret.BusNoticeMacs;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.proto.bus.MessageNotice;
import dev.umbra.proto.bus.StoredCopy;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Notices that carry the stored copy (docs/messaging.md, "Notices on the bus"), across two
 * instances: the sender on A, the recipient's socket on B. A small copy is pushed by B from the
 * notice alone, byte for byte the frame a read would give; a large one is read from PostgreSQL as
 * before; a notice whose MAC does not hold for its channel, or that is cut, too large, of an
 * unknown version, sealed outside the time window or seen before, is refused and counted and
 * nothing of it reaches the socket. Each send and push is timed in the instances' stage histograms
 * on the way.
 */
@ExtendWith(VertxExtension.class)
class MessageNoticeTest {
  Harness a;
  Harness b;
  Vertx vertxB;
  MessagingFixture.Scene scene;
  Harness.Owner alice;
  AgentKeys agent;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(a, "claude");
    alice = scene.owner();
    agent = scene.agent();
    vertxB = Vertx.vertx();
    b = new Harness(vertxB, a);
  }

  @AfterEach
  void stop() throws Exception {
    b.close();
    vertxB.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    a.close();
  }

  String send(byte[] ciphertext) {
    return MessagingFixture.send(a, scene, ciphertext);
  }

  /** The agent's pending copies as the polling route renders them, by id. */
  Map<String, String> pendingJson() {
    Map<String, String> out = new java.util.HashMap<>();
    JsonArray items =
        a.call("GET", "/v1/workspaces/" + alice.workspaceId() + "/messages", agent.session(), null)
            .body()
            .getJsonArray("items");
    items.forEach(i -> out.put(((JsonObject) i).getString("id"), ((JsonObject) i).encode()));
    return out;
  }

  double pushReadsOnB() {
    return b.registry.find("umbra.control_plane.message_push_reads").counter().count();
  }

  double refusedOnB(String reason) {
    var c =
        b.registry
            .find("umbra.control_plane.message_notices_refused")
            .tag("reason", reason)
            .counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void aSmallCopyIsPushedFromItsNoticeWithoutReadingPostgresAsTheFrameAReadWouldGive(Vertx vertx)
      throws Exception {
    Client onB = MessageDeliveryTest.connect(vertx, b, alice.workspaceId(), agent.session());
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sent.add(send(("small copy " + i).getBytes(StandardCharsets.UTF_8)));
    }
    Eventually.await("pushed from B", Duration.ofSeconds(20), () -> onB.messageIds().size() == 5);
    assertThat(onB.messageIds()).containsExactlyElementsOf(sent);
    assertThat(pushReadsOnB()).as("B read no copy from PostgreSQL").isZero();
    // clients do not change: each pushed copy is exactly what the polling route renders of its row
    Map<String, String> rows = pendingJson();
    for (JsonObject f : onB.frames()) {
      if ("message".equals(f.getString("type"))) {
        JsonObject m = f.getJsonObject("message");
        assertThat(m.encode()).isEqualTo(rows.get(m.getString("id")));
      }
    }
  }

  static long staged(Harness h, String stage) {
    io.micrometer.core.instrument.Timer t =
        h.registry.find("umbra.messaging.stage").tag("stage", stage).timer();
    return t == null ? -1 : t.count();
  }

  /**
   * The stage histograms of a message (docs/benchmarks.md, "Messaging": the breakdown): the
   * sender's instance A times each send's stored, answered and published stages, the recipient's
   * instance B each copy's push to its socket; the stage is their only label.
   */
  @Test
  void eachSendIsTimedOnItsInstanceAndEachPushOnTheRecipients(Vertx vertx) throws Exception {
    Client onB = MessageDeliveryTest.connect(vertx, b, alice.workspaceId(), agent.session());
    for (int i = 0; i < 3; i++) {
      send(("copy " + i).getBytes(StandardCharsets.UTF_8));
    }
    Eventually.await("pushed from B", Duration.ofSeconds(20), () -> onB.messageIds().size() == 3);
    Eventually.await("pushes timed", Duration.ofSeconds(20), () -> staged(b, "pushed") == 3);
    Eventually.await("notices timed", Duration.ofSeconds(20), () -> staged(a, "published") == 3);

    assertThat(staged(a, "stored")).isEqualTo(3);
    assertThat(staged(a, "answered")).isEqualTo(3);
    assertThat(staged(a, "pushed")).as("A holds no socket of the agent").isZero();
    assertThat(staged(b, "stored")).as("nothing was sent through B").isZero();
    String scraped = a.registry.scrape();
    assertThat(scraped)
        .contains("umbra_messaging_stage_seconds_bucket{stage=\"stored\",le=\"1.0E-5\"}")
        .contains("umbra_messaging_stage_seconds_count{stage=\"published\"} 3");
    scraped
        .lines()
        .filter(l -> l.startsWith("umbra_messaging_stage_seconds"))
        .forEach(
            l ->
                assertThat(l)
                    .matches(
                        "umbra_messaging_stage_seconds_\\w+\\{stage=\"\\w+\"(,le=\"[^\"]+\")?\\} .*"));
  }

  @Test
  void aCopyOverTheCarriedLimitStillArrivesThroughARead(Vertx vertx) throws Exception {
    Client onB = MessageDeliveryTest.connect(vertx, b, alice.workspaceId(), agent.session());
    byte[] large = new byte[40 * 1024];
    new java.security.SecureRandom().nextBytes(large);
    String id = send(large);
    Eventually.await("pushed from B", Duration.ofSeconds(20), () -> onB.messageIds().contains(id));
    assertThat(pushReadsOnB()).as("B read the large copy from PostgreSQL").isEqualTo(1);
    JsonObject m =
        onB.frames().stream()
            .filter(f -> "message".equals(f.getString("type")))
            .findFirst()
            .orElseThrow()
            .getJsonObject("message");
    assertThat(m.encode()).isEqualTo(pendingJson().get(id));
  }

  @Test
  void aForgedMovedCutOversizedUnknownStaleOrReplayedNoticeIsRefusedAndReachesNoSocket(Vertx vertx)
      throws Exception {
    Client onB = MessageDeliveryTest.connect(vertx, b, alice.workspaceId(), agent.session());
    UUID ws = UUID.fromString(alice.workspaceId());
    UUID me = agent.id();
    String channel = BusNames.messageRecipient(ws, me);
    byte[] key = BusNoticeMacs.key(Harness.INTERNAL, DOMAIN);
    byte[] notice = notice(ws, me, "forged copy").toByteArray();
    byte[] forgedKey = BusNoticeMacs.key("not-the-internal-credential-0123456789", DOMAIN);
    long now = b.clock.millis();
    List<Buffer> forged =
        List.of(
            // a MAC under another key: whoever can publish on Redis without the credential
            body(1, now, mac(forgedKey, channel, now, notice), notice),
            // a valid MAC for another recipient's channel, replayed onto this one
            body(
                1,
                now,
                mac(key, BusNames.messageRecipient(ws, UUID.randomUUID()), now, notice),
                notice),
            // ... and for another workspace's
            body(
                1,
                now,
                mac(key, BusNames.messageRecipient(UUID.randomUUID(), me), now, notice),
                notice),
            // a valid MAC under another domain's key (a takeover notice's)
            body(
                1,
                now,
                BusNoticeMacs.mac(
                    BusNoticeMacs.key(Harness.INTERNAL, CryptoConstants.WEBTTY_TAKEOVER_DOMAIN),
                    CryptoConstants.WEBTTY_TAKEOVER_DOMAIN,
                    channel,
                    now,
                    notice),
                notice),
            // a valid notice, cut
            Buffer.buffer(new byte[] {1, 2, 3}),
            // a valid MAC under an unknown version
            body(2, now, mac(key, channel, now, notice), notice),
            // over the largest body
            body(1, now, new byte[32], new byte[64 * 1024]),
            // a valid MAC, sealed 31 s before B's clock: outside the window
            body(1, now - 31_000, mac(key, channel, now - 31_000, notice), notice));
    for (Buffer f : forged) {
      Futures.await(a.bus.publish(channel, f), Duration.ofSeconds(10));
    }
    // then a genuine notice, twice: the bus keeps one publisher's order, so the forged ones came
    // first and the replay last
    byte[] genuine = notice(ws, me, "genuine copy").toByteArray();
    Buffer sealed = body(1, now, mac(key, channel, now, genuine), genuine);
    Futures.await(a.bus.publish(channel, sealed), Duration.ofSeconds(10));
    Futures.await(a.bus.publish(channel, sealed), Duration.ofSeconds(10));
    Eventually.await(
        "the replay refused", Duration.ofSeconds(20), () -> refusedOnB("replayed") == 1);
    // B counts the replay's refusal as soon as it reads it; the genuine copy it pushed before is
    // then on its way through the socket, not necessarily at the client yet
    Eventually.await(
        "the genuine copy at the client",
        Duration.ofSeconds(20),
        () -> !onB.messageIds().isEmpty());
    assertThat(onB.messageIds()).hasSize(1);
    String pushed =
        onB.frames().stream()
            .filter(f -> "message".equals(f.getString("type")))
            .findFirst()
            .orElseThrow()
            .getJsonObject("message")
            .getString("ciphertext");
    assertThat(java.util.Base64.getDecoder().decode(pushed))
        .isEqualTo("genuine copy".getBytes(StandardCharsets.UTF_8));
    assertThat(refusedOnB("bad_mac")).isEqualTo(4);
    assertThat(refusedOnB("truncated")).isEqualTo(1);
    assertThat(refusedOnB("unknown_version")).isEqualTo(1);
    assertThat(refusedOnB("oversized")).isEqualTo(1);
    assertThat(refusedOnB("stale")).isEqualTo(1);
    assertThat(pushReadsOnB()).isZero();
  }

  /**
   * A notice sealed again for a retry (NoticeOutbox) after a publish that reached Redis after all
   * (a timeout) is a second, genuine notice of the same copy under another MAC — no replay to the
   * seal's check: B pushes the copy once and counts the second one as a duplicate.
   */
  @Test
  void aSecondNoticeOfACopyPushedAlreadyUnderAnotherSealIsNotPushedAgain(Vertx vertx)
      throws Exception {
    Client onB = MessageDeliveryTest.connect(vertx, b, alice.workspaceId(), agent.session());
    UUID ws = UUID.fromString(alice.workspaceId());
    byte[] once = notice(ws, agent.id(), "one copy").toByteArray();
    byte[] other = notice(ws, agent.id(), "another copy").toByteArray();
    long now = b.clock.millis();
    // the first attempt, its retry sealed 2 s later (another MAC), then another copy's notice
    publishSealed(now, once);
    publishSealed(now + 2_000, once);
    publishSealed(now, other);
    Eventually.await(
        "both copies pushed", Duration.ofSeconds(20), () -> onB.messageIds().size() >= 2);
    assertThat(onB.messageIds())
        .containsExactly(
            MessageNotice.parseFrom(once).getMessageId(),
            MessageNotice.parseFrom(other).getMessageId());
    assertThat(b.registry.find("umbra.control_plane.message_notices_duplicate").counter().count())
        .isEqualTo(1);
    assertThat(refusedOnB("replayed")).as("not a replay: another seal").isZero();
  }

  /**
   * Publishes {@code notice} on the agent's channel, sealed with the credential at {@code millis}.
   */
  void publishSealed(long millis, byte[] notice) throws Exception {
    String channel = BusNames.messageRecipient(UUID.fromString(alice.workspaceId()), agent.id());
    byte[] key = BusNoticeMacs.key(Harness.INTERNAL, DOMAIN);
    Futures.await(
        a.bus.publish(channel, body(1, millis, mac(key, channel, millis, notice), notice)),
        Duration.ofSeconds(10));
  }

  private static final String DOMAIN = CryptoConstants.MESSAGE_NOTICE_DOMAIN;

  static byte[] mac(byte[] key, String channel, long millis, byte[] notice) {
    return BusNoticeMacs.mac(key, DOMAIN, channel, millis, notice);
  }

  /**
   * A notice carrying a copy that was never stored (so it can only come from the notice), with
   * {@code text} as its ciphertext.
   */
  static MessageNotice notice(UUID ws, UUID recipient, String text) {
    UUID id = UUID.randomUUID();
    return MessageNotice.newBuilder()
        .setWorkspaceId(ws.toString())
        .setRecipientId(recipient.toString())
        .setMessageId(id.toString())
        .setCopy(
            StoredCopy.newBuilder()
                .setSeq(1)
                .setConversationId(UUID.randomUUID().toString())
                .setSenderKind("device")
                .setSenderId(UUID.randomUUID().toString())
                .setCiphertext(ByteString.copyFromUtf8(text))
                .setCreatedAtUnixMicros(1_796_119_200_123_456L))
        .build();
  }

  /** The bus body {@code version || u64be(millis) || mac || notice} (SealedNotices). */
  static Buffer body(int version, long millis, byte[] mac, byte[] notice) {
    return Buffer.buffer()
        .appendByte((byte) version)
        .appendLong(millis)
        .appendBytes(mac)
        .appendBytes(notice);
  }
}
