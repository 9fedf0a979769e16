package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.controlplane.MessagingFixture.Scene;
import dev.umbra.kit.metrics.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
 * The quotas on unacknowledged copies (docs/messaging.md, "Limits"; {@code message_send}, migration
 * V37): at most {@value #PER_RECIPIENT} waiting for one recipient and {@value #PER_SENDER} waiting
 * from one sender here. A send over either is refused with 429 and its reason, stores nothing and
 * claims no id; acknowledged and expired copies free the quota; other recipients and other
 * workspaces are not affected.
 */
@ExtendWith(VertxExtension.class)
class PendingQuotaTest {
  static final int PER_RECIPIENT = 3;
  static final int PER_SENDER = 5;

  Harness h;
  Scene scene;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h =
        new Harness(
            vertx,
            Map.of(
                "UMBRA_MESSAGE_PENDING_PER_RECIPIENT", "" + PER_RECIPIENT,
                "UMBRA_MESSAGE_PENDING_PER_SENDER", "" + PER_SENDER,
                "UMBRA_MESSAGE_RETENTION_HOURS", "1"));
    scene = MessagingFixture.scene(h, "claude");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  String ws() {
    return scene.owner().workspaceId();
  }

  Harness.Response send(String session, String conversation, UUID recipient, String id) {
    return h.call(
        "POST",
        "/v1/workspaces/" + ws() + "/messages",
        session,
        MessagingFixture.message(id, conversation, recipient, new byte[] {1}));
  }

  /** The scene's device sends a fresh message to {@code agent} in {@code conversation}. */
  Harness.Response toAgent(String conversation, AgentKeys agent) {
    return send(scene.device().session(), conversation, agent.id(), UUID.randomUUID().toString());
  }

  List<String> pendingIds(String session) {
    List<String> out = new ArrayList<>();
    h.call("GET", "/v1/workspaces/" + ws() + "/messages", session, null)
        .body()
        .getJsonArray("items")
        .forEach(i -> out.add(((JsonObject) i).getString("id")));
    return out;
  }

  void ack(String session, List<String> ids) {
    Harness.Response r =
        h.call(
            "POST",
            "/v1/workspaces/" + ws() + "/messages/acks",
            session,
            new JsonObject().put("ids", new JsonArray(new ArrayList<Object>(ids))));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
  }

  static void full(Harness.Response r, String code) {
    assertThat(r.status()).as(r.body().encode()).isEqualTo(429);
    assertThat(r.errorCode()).isEqualTo(code);
  }

  double refusedFull(String reason) {
    return h.registry
        .get(Metrics.name("control-plane", "message_sends_refused_full"))
        .tag("reason", reason)
        .counter()
        .count();
  }

  long claims(String id) throws Exception {
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement st =
            c.prepareStatement("SELECT count(*) FROM control_plane.message_ids WHERE id = ?")) {
      st.setObject(1, UUID.fromString(id));
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void aSendOverTheRecipientsQuotaIsRefusedStoresNothingAndWorksAgainAfterAcks() throws Exception {
    List<String> stored = new ArrayList<>();
    for (int i = 0; i < PER_RECIPIENT; i++) {
      String id = UUID.randomUUID().toString();
      assertThat(
              send(scene.device().session(), scene.conversation(), scene.agent().id(), id).status())
          .isEqualTo(200);
      stored.add(id);
    }
    String over = UUID.randomUUID().toString();
    Harness.Response r =
        send(scene.device().session(), scene.conversation(), scene.agent().id(), over);
    full(r, "recipient_pending_full");
    assertThat(r.body().getJsonObject("error").getString("message"))
        .contains("nothing was stored")
        .contains("acknowledged");
    assertThat(pendingIds(scene.agent().session())).containsExactlyElementsOf(stored);
    assertThat(claims(over)).as("a refused send claims no id").isZero();
    assertThat(refusedFull("recipient_pending_full")).isEqualTo(1.0);

    // a retry of a stored send stays a no-op, quota or not
    Harness.Response resend =
        send(scene.device().session(), scene.conversation(), scene.agent().id(), stored.get(0));
    assertThat(resend.status()).as(resend.body().encode()).isEqualTo(200);

    ack(scene.agent().session(), stored.subList(0, 2));
    assertThat(
            send(scene.device().session(), scene.conversation(), scene.agent().id(), over).status())
        .as("the acknowledgements freed two places")
        .isEqualTo(200);
    assertThat(pendingIds(scene.agent().session())).containsExactly(stored.get(2), over);
  }

  @Test
  void anotherRecipientAndTheFullRecipientsOwnSendsAreUnaffected() {
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    full(toAgent(scene.conversation(), scene.agent()), "recipient_pending_full");
    AgentKeys other =
        MessagingFixture.approvedAgent(
            h, scene.owner().token(), MessagingFixture.machine(h, ws()), "other");
    String otherConversation = MessagingFixture.conversation(h, scene.device(), other);
    assertThat(toAgent(otherConversation, other).status()).isEqualTo(200);
    Harness.Response fromFull =
        send(
            scene.agent().session(),
            scene.conversation(),
            scene.device().id(),
            UUID.randomUUID().toString());
    assertThat(fromFull.status()).as("a full recipient still sends").isEqualTo(200);
  }

  @Test
  void aSenderOverItsQuotaIsRefusedUntilItsRecipientsAcknowledge() {
    AgentKeys other =
        MessagingFixture.approvedAgent(
            h, scene.owner().token(), MessagingFixture.machine(h, ws()), "other");
    String otherConversation = MessagingFixture.conversation(h, scene.device(), other);
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    for (int i = PER_RECIPIENT; i < PER_SENDER; i++) {
      assertThat(toAgent(otherConversation, other).status()).isEqualTo(200);
    }
    full(toAgent(otherConversation, other), "sender_pending_full");
    assertThat(pendingIds(other.session())).hasSize(PER_SENDER - PER_RECIPIENT);
    assertThat(refusedFull("sender_pending_full")).isEqualTo(1.0);

    // the agent's own sends are its quota, not the device's
    Harness.Response fromAgent =
        send(
            scene.agent().session(),
            scene.conversation(),
            scene.device().id(),
            UUID.randomUUID().toString());
    assertThat(fromAgent.status()).isEqualTo(200);

    ack(scene.agent().session(), pendingIds(scene.agent().session()).subList(0, 1));
    assertThat(toAgent(otherConversation, other).status()).isEqualTo(200);
  }

  @Test
  void aBatchStoresTheSendsWithinTheQuotaInOrderAndRefusesTheRestEachAlone() {
    assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    JsonArray messages = new JsonArray();
    for (int i = 0; i < 3; i++) {
      String id = UUID.randomUUID().toString();
      ids.add(id);
      messages.add(
          MessagingFixture.message(id, scene.conversation(), scene.agent().id(), new byte[] {2}));
    }
    Harness.Response r =
        h.call(
            "POST",
            "/v1/workspaces/" + ws() + "/messages/batch",
            scene.device().session(),
            new JsonObject().put("messages", messages));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    JsonArray res = r.body().getJsonArray("results");
    assertThat(res.getJsonObject(0).getInteger("stored")).isEqualTo(1);
    assertThat(res.getJsonObject(1).getInteger("stored")).isEqualTo(1);
    JsonObject refused = res.getJsonObject(2).getJsonObject("error");
    assertThat(refused.getInteger("status")).as(res.encode()).isEqualTo(429);
    assertThat(refused.getString("code")).isEqualTo("recipient_pending_full");
    assertThat(pendingIds(scene.agent().session())).hasSize(3).endsWith(ids.get(0), ids.get(1));
  }

  @Test
  void expiredCopiesFreeTheQuota() throws Exception {
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    full(toAgent(scene.conversation(), scene.agent()), "recipient_pending_full");
    h.clock.advance(Duration.ofMinutes(61));
    assertThat(
            h.service
                .messaging()
                .sweep()
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS))
        .isEqualTo(PER_RECIPIENT);
    String session =
        MessagingFixture.deviceSession(h, scene.owner().token(), ws(), scene.device().id());
    Harness.Response r =
        send(session, scene.conversation(), scene.agent().id(), UUID.randomUUID().toString());
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
  }

  @Test
  void aFullRecipientInOneWorkspaceLeavesTheSameMembersOtherWorkspaceAlone() {
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    String wsB =
        h.call("POST", "/v1/workspaces", scene.owner().token(), new JsonObject().put("name", "B"))
            .body()
            .getString("id");
    MessagingFixture.Device deviceB =
        MessagingFixture.protect(h, scene.owner().token(), wsB, scene.owner().accountId());
    AgentKeys agentB =
        MessagingFixture.approvedAgent(
            h, scene.owner().token(), MessagingFixture.machine(h, wsB), "other");
    String conversationB = MessagingFixture.conversation(h, deviceB, agentB);
    for (int i = 0; i < PER_RECIPIENT; i++) {
      Harness.Response r =
          h.call(
              "POST",
              "/v1/workspaces/" + wsB + "/messages",
              deviceB.session(),
              MessagingFixture.message(
                  UUID.randomUUID().toString(), conversationB, agentB.id(), new byte[] {1}));
      assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    }
    full(toAgent(scene.conversation(), scene.agent()), "recipient_pending_full");
  }
}
