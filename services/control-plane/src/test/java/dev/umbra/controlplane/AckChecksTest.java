package dev.umbra.controlplane;

import static dev.umbra.controlplane.MessagingFixture.asOwner;
import static dev.umbra.controlplane.MessagingFixture.refused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.controlplane.MessagingFixture.Scene;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The checks of an acknowledgement, made by PostgreSQL in the one statement that does it ({@code
 * message_ack}, migration V35; docs/messaging.md, "Acknowledgements"): the recipient still active,
 * only the recipient's own copies deleted, an id acknowledged twice deleting nothing the second
 * time, all under the workspace's row-level security. The principals here are revoked in the
 * database only (the revocation list does not know), so the statement is the only thing that can
 * refuse.
 */
@ExtendWith(VertxExtension.class)
class AckChecksTest {
  Harness h;
  Scene scene;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(h, "claude");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  String ws() {
    return scene.ws();
  }

  /** Copies stored of message {@code id}, as the owner sees them (no row-level security). */
  long stored(String id) throws Exception {
    return stored(h, id);
  }

  static long stored(Harness h, String id) throws Exception {
    return MessagingFixture.ownerCount(
        h, "SELECT count(*) FROM control_plane.messages WHERE id = ?", UUID.fromString(id));
  }

  @Test
  void theRecipientsAckDeletesItsCopyOnceAndAgainDeletesNothing() throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    String other = MessagingFixture.send(h, scene, new byte[] {2});
    Harness.Response first = scene.ack(h, scene.agent().session(), List.of(id));
    assertThat(first.status()).as(first.body().encode()).isEqualTo(200);
    assertThat(first.body().getInteger("deleted")).isEqualTo(1);
    assertThat(scene.ack(h, scene.agent().session(), List.of(id)).body().getInteger("deleted"))
        .isZero();
    assertThat(stored(id)).isZero();
    assertThat(stored(other)).as("a copy not acknowledged stays").isEqualTo(1);
    assertThat(scene.pending(h, scene.agent().session())).hasSize(1);
  }

  @Test
  void someoneElsesCopyIsNotDeleted() throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    // the sender knows the id; the copy is the agent's
    Harness.Response r = scene.ack(h, scene.device().session(), List.of(id));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    assertThat(r.body().getInteger("deleted")).isZero();
    assertThat(stored(id)).isEqualTo(1);
    assertThat(scene.pending(h, scene.agent().session())).hasSize(1);
  }

  @Test
  void aRecipientNoLongerActiveIsRefusedAndDeletesNothing() throws Exception {
    String id = MessagingFixture.send(h, scene, new byte[] {1});
    asOwner(
        h,
        "UPDATE control_plane.machines SET revoked_at = now() WHERE id ="
            + " (SELECT machine_id FROM control_plane.agents WHERE id = ?)",
        scene.agent().id());
    Harness.Response r = scene.ack(h, scene.agent().session(), List.of(id));
    refused(r, 403, "principal_not_active");
    assertThat(stored(id)).isEqualTo(1);
  }

  @Test
  void aDeviceNoLongerTrustedIsRefused() throws Exception {
    asOwner(
        h, "UPDATE control_plane.devices SET status = 'revoked' WHERE id = ?", scene.device().id());
    refused(
        scene.ack(h, scene.device().session(), List.of(UUID.randomUUID().toString())),
        403,
        "principal_not_active");
  }

  @Test
  void rowLevelSecurityKeepsAnotherWorkspacesRecipientAndCopiesOut() throws Exception {
    // the same member's workspace B: her device there, an agent there, a copy held for the agent
    MessagingFixture.OtherWorkspace b = MessagingFixture.otherWorkspace(h, scene);
    String wsB = b.ws();
    MessagingFixture.AgentKeys agentB = b.agent();
    String idB = b.send(h, new byte[] {1});

    // in workspace A, as the request role: B's agent is not there, so it is not an active recipient
    assertThatThrownBy(() -> messageAck(UUID.fromString(ws()), agentB.id(), idB))
        .isInstanceOf(PgException.class)
        .hasMessageContaining("not active");
    // A's own agent, naming B's copy: row-level security hides it, nothing is deleted
    assertThat(messageAck(UUID.fromString(ws()), scene.agent().id(), idB)).isZero();
    assertThat(stored(idB)).isEqualTo(1);
    // in B, B's agent deletes it
    assertThat(messageAck(UUID.fromString(wsB), agentB.id(), idB)).isEqualTo(1);
  }

  /** One call of {@code message_ack} as the request role in workspace {@code wid}. */
  int messageAck(UUID wid, UUID agent, String id) throws Exception {
    return MessagingFixture.await(
        h.service
            .database()
            .inWorkspace(
                wid,
                conn ->
                    conn.preparedQuery(
                            "SELECT deleted FROM message_ack('agent', $1::uuid, NULL::uuid, $2::uuid[])")
                        .execute(
                            Tuple.tuple()
                                .addValue(agent)
                                .addValue(new UUID[] {UUID.fromString(id)}))
                        .map(rs -> rs.iterator().next().getInteger("deleted"))));
  }
}
