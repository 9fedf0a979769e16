package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.AgentKeys;
import dev.umbra.controlplane.MessagingFixture.Scene;
import dev.umbra.kit.metrics.Metrics;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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

  /** The scene's device sends a fresh message to {@code agent} in {@code conversation}. */
  Harness.Response toAgent(String conversation, AgentKeys agent) {
    return scene.send(h, scene.device().session(), conversation, agent.id());
  }

  void ack(String session, List<String> ids) {
    Harness.Response r = scene.ack(h, session, ids);
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
  }

  static void full(Harness.Response r, String code) {
    MessagingFixture.refused(r, 429, code);
  }

  double refusedFull(String reason) {
    return h.registry
        .get(Metrics.name("control-plane", "message_sends_refused_full"))
        .tag("reason", reason)
        .counter()
        .count();
  }

  long claims(String id) throws Exception {
    return MessagingFixture.ownerCount(
        h, "SELECT count(*) FROM control_plane.message_ids WHERE id = ?", UUID.fromString(id));
  }

  @Test
  void aSendOverTheRecipientsQuotaIsRefusedStoresNothingAndWorksAgainAfterAcks() throws Exception {
    List<String> stored = new ArrayList<>();
    for (int i = 0; i < PER_RECIPIENT; i++) {
      String id = UUID.randomUUID().toString();
      assertThat(
              scene
                  .send(h, scene.device().session(), scene.conversation(), scene.agent().id(), id)
                  .status())
          .isEqualTo(200);
      stored.add(id);
    }
    String over = UUID.randomUUID().toString();
    Harness.Response r =
        scene.send(h, scene.device().session(), scene.conversation(), scene.agent().id(), over);
    full(r, "recipient_pending_full");
    assertThat(r.body().getJsonObject("error").getString("message"))
        .contains("nothing was stored")
        .contains("acknowledged");
    assertThat(scene.pending(h, scene.agent().session())).containsExactlyElementsOf(stored);
    assertThat(claims(over)).as("a refused send claims no id").isZero();
    assertThat(refusedFull("recipient_pending_full")).isEqualTo(1.0);

    // a retry of a stored send stays a no-op, quota or not
    Harness.Response resend =
        scene.send(
            h, scene.device().session(), scene.conversation(), scene.agent().id(), stored.get(0));
    assertThat(resend.status()).as(resend.body().encode()).isEqualTo(200);

    ack(scene.agent().session(), stored.subList(0, 2));
    assertThat(
            scene
                .send(h, scene.device().session(), scene.conversation(), scene.agent().id(), over)
                .status())
        .as("the acknowledgements freed two places")
        .isEqualTo(200);
    assertThat(scene.pending(h, scene.agent().session())).containsExactly(stored.get(2), over);
  }

  @Test
  void anotherRecipientAndTheFullRecipientsOwnSendsAreUnaffected() {
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    full(toAgent(scene.conversation(), scene.agent()), "recipient_pending_full");
    MessagingFixture.Peer peer = MessagingFixture.peer(h, scene, "other");
    AgentKeys other = peer.agent();
    String otherConversation = peer.conversation();
    assertThat(toAgent(otherConversation, other).status()).isEqualTo(200);
    Harness.Response fromFull = scene.fromAgent(h);
    assertThat(fromFull.status()).as("a full recipient still sends").isEqualTo(200);
  }

  @Test
  void aSenderOverItsQuotaIsRefusedUntilItsRecipientsAcknowledge() {
    MessagingFixture.Peer peer = MessagingFixture.peer(h, scene, "other");
    AgentKeys other = peer.agent();
    String otherConversation = peer.conversation();
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    for (int i = PER_RECIPIENT; i < PER_SENDER; i++) {
      assertThat(toAgent(otherConversation, other).status()).isEqualTo(200);
    }
    full(toAgent(otherConversation, other), "sender_pending_full");
    assertThat(scene.pending(h, other.session())).hasSize(PER_SENDER - PER_RECIPIENT);
    assertThat(refusedFull("sender_pending_full")).isEqualTo(1.0);

    // the agent's own sends are its quota, not the device's
    Harness.Response fromAgent = scene.fromAgent(h);
    assertThat(fromAgent.status()).isEqualTo(200);

    ack(scene.agent().session(), scene.pending(h, scene.agent().session()).subList(0, 1));
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
            "/v1/workspaces/" + scene.ws() + "/messages/batch",
            scene.device().session(),
            new JsonObject().put("messages", messages));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    JsonArray res = r.body().getJsonArray("results");
    assertThat(res.getJsonObject(0).getInteger("stored")).isEqualTo(1);
    assertThat(res.getJsonObject(1).getInteger("stored")).isEqualTo(1);
    JsonObject refused = res.getJsonObject(2).getJsonObject("error");
    assertThat(refused.getInteger("status")).as(res.encode()).isEqualTo(429);
    assertThat(refused.getString("code")).isEqualTo("recipient_pending_full");
    assertThat(scene.pending(h, scene.agent().session()))
        .hasSize(3)
        .endsWith(ids.get(0), ids.get(1));
  }

  @Test
  void expiredCopiesFreeTheQuota() throws Exception {
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    full(toAgent(scene.conversation(), scene.agent()), "recipient_pending_full");
    h.clock.advance(Duration.ofMinutes(61));
    assertThat(MessagingFixture.await(h.service.messaging().sweep())).isEqualTo(PER_RECIPIENT);
    String session =
        MessagingFixture.deviceSession(h, scene.owner().token(), scene.ws(), scene.device().id());
    Harness.Response r = scene.send(h, session, scene.conversation(), scene.agent().id());
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
  }

  @Test
  void aFullRecipientInOneWorkspaceLeavesTheSameMembersOtherWorkspaceAlone() {
    for (int i = 0; i < PER_RECIPIENT; i++) {
      assertThat(toAgent(scene.conversation(), scene.agent()).status()).isEqualTo(200);
    }
    MessagingFixture.OtherWorkspace b = MessagingFixture.otherWorkspace(h, scene);
    for (int i = 0; i < PER_RECIPIENT; i++) {
      b.send(h, new byte[] {1});
    }
    full(toAgent(scene.conversation(), scene.agent()), "recipient_pending_full");
  }
}
