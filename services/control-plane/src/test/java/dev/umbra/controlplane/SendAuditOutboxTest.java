package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.Scene;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TcpProxy;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
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
 * A stored send is audited even when its instance dies between the commit and the append to the
 * audit stream (docs/messaging.md, "Audit"; migration V40): its {@code agent.message.sent} event is
 * written down in the send's transaction and appended later by any instance's sweep, under its own
 * id. Here the instance that stores the sends reaches Redis through a {@link TcpProxy} that is cut
 * (its appends cannot leave), and is then stopped: another instance's sweep appends each event
 * once, with the actor and counts the send had, and deletes its row. A send that stored nothing (a
 * resend, a refusal) writes no row; an instance that appended its event deletes the row itself.
 */
@ExtendWith(VertxExtension.class)
class SendAuditOutboxTest {
  Harness a;
  Scene scene;
  final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(a, "claude");
    // the scene's own audited actions (its device approved) leave the outbox once appended
    Eventually.await("the scene's audit rows deleted", Duration.ofSeconds(20), () -> rows() == 0);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
    a.close();
  }

  Harness cutOffFromRedis(Vertx vertx) throws Exception {
    return AuditOutboxFixture.cutOffFromRedis(vertx, a, closing);
  }

  @Test
  void aSendWhoseInstanceDiedBeforeAppendingItsEventIsAuditedByAnotherInstancesSweep(Vertx vertx)
      throws Exception {
    Harness c = cutOffFromRedis(vertx);
    Harness.Response fromDevice = scene.fromDevice(c);
    assertThat(fromDevice.status()).as(fromDevice.body().encode()).isEqualTo(200);
    Harness.Response fromAgent = scene.fromAgent(c);
    assertThat(fromAgent.status()).as(fromAgent.body().encode()).isEqualTo(200);
    String toAgent = fromDevice.body().getString("id");
    String toDevice = fromAgent.body().getString("id");
    assertThat(rows()).isEqualTo(2);
    c.stopService(); // what was not appended is gone with the instance

    assertThat(sent(toAgent)).isEmpty();
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox()))
        .as("nothing is due before the sweep's age")
        .isZero();
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isEqualTo(2);
    assertThat(rows()).isZero();

    AuditEvent device = sent(toAgent).getFirst();
    assertThat(sent(toAgent)).hasSize(1);
    assertThat(device.getActor().getId()).isEqualTo(scene.device().id().toString());
    assertThat(device.getTarget()).isEqualTo("message:" + toAgent);
    assertThat(device.getWorkspaceId()).isEqualTo(scene.ws());
    assertThat(device.getMetadataMap())
        .containsEntry("copies", "1")
        .containsEntry("bytes", "1")
        .containsEntry("conversation", scene.conversation())
        .containsEntry("sender", scene.device().id().toString());
    AuditEvent agent = sent(toDevice).getFirst();
    assertThat(sent(toDevice)).hasSize(1);
    assertThat(agent.getActor().getKind().name()).contains("MACHINE");
    assertThat(agent.getActor().getId()).isEqualTo(scene.machine().id().toString());
    assertThat(agent.getMetadataMap()).containsEntry("sender", scene.agent().id().toString());

    // a second sweep finds nothing: each event is appended once
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isZero();
    assertThat(sent(toAgent)).hasSize(1);
  }

  @Test
  void aResendOrARefusedSendWritesNoRow(Vertx vertx) throws Exception {
    Harness c = cutOffFromRedis(vertx);
    String id = UUID.randomUUID().toString();
    Harness.Response first =
        scene.send(c, scene.device().session(), scene.conversation(), scene.agent().id(), id);
    assertThat(first.status()).as(first.body().encode()).isEqualTo(200);
    Harness.Response again =
        scene.send(c, scene.device().session(), scene.conversation(), scene.agent().id(), id);
    assertThat(again.status()).as(again.body().encode()).isEqualTo(200);
    assertThat(again.body().getInteger("duplicates")).isEqualTo(1);
    Harness.Response stranger =
        scene.send(c, scene.device().session(), scene.conversation(), UUID.randomUUID());
    assertThat(stranger.status()).isEqualTo(403);
    assertThat(rows()).isOne();
  }

  @Test
  void anInstanceThatAppendedTheEventDeletesItsRow() throws Exception {
    String id = MessagingFixture.send(a, scene, new byte[] {1, 2, 3});
    Eventually.await("the event appended", Duration.ofSeconds(20), () -> sent(id).size() == 1);
    Eventually.await("its row deleted", Duration.ofSeconds(20), () -> rows() == 0);
    assertThat(sent(id).getFirst().getMetadataMap()).containsEntry("bytes", "3");
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isZero();
    assertThat(sent(id)).hasSize(1);
  }

  @Test
  void aCanaryWhoseEventWaitsInTheOutboxShowsInNoRowLogOrBusMessage(Vertx vertx) throws Exception {
    Harness c = cutOffFromRedis(vertx);
    MessageCanary canary = MessageCanary.watch(a);
    byte[] sealed = canary.sealed();
    try (canary) {
      Harness.Response r =
          c.call(
              "POST",
              "/v1/workspaces/" + scene.ws() + "/messages",
              scene.device().session(),
              MessagingFixture.message(
                  UUID.randomUUID().toString(), scene.conversation(), scene.agent().id(), sealed));
      assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
      assertThat(rows()).isOne();
      assertThat(a.pg.rowsAsText()).containsKey("control_plane.audit_outbox");
      try (Connection conn = a.pg.ownerConnection();
          Statement st = conn.createStatement();
          ResultSet rs = st.executeQuery("SELECT event FROM control_plane.audit_outbox")) {
        rs.next();
        String event = new String(rs.getBytes(1), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(event)
            .as("the ciphertext is not in the outbox's event")
            .doesNotContain(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1));
      }
    }
    assertThat(canary.leaks(a)).isEmpty();
  }

  @Test
  void aRowWhoseEventDoesNotParseIsCountedAndDeletedWithoutBlockingTheOthers(Vertx vertx)
      throws Exception {
    Harness c = cutOffFromRedis(vertx);
    String id = scene.fromDevice(c).body().getString("id");
    c.stopService();
    try (Connection conn = a.pg.ownerConnection();
        java.sql.PreparedStatement st =
            conn.prepareStatement(
                "INSERT INTO control_plane.audit_outbox"
                    + " (workspace_id, event_id, event, created_at) VALUES (?, ?, ?, now())")) {
      st.setObject(1, UUID.fromString(scene.ws()));
      st.setString(2, "01BROKENBROKENBROKENBROKEN");
      st.setBytes(3, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0a, 0x7f});
      st.executeUpdate();
    }
    assertThat(rows()).isEqualTo(2);
    a.clock.advance(Duration.ofMinutes(1));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isEqualTo(2);
    assertThat(rows()).isZero();
    assertThat(sent(id)).hasSize(1);
    assertThat(
            a.registry
                .get(dev.umbra.kit.metrics.Metrics.name("control-plane", "audit_outbox"))
                .tag("outcome", "unreadable")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  /** The {@code agent.message.sent} events of message {@code id} in the audit stream. */
  List<AuditEvent> sent(String id) {
    return AuditOutboxFixture.events(a, "agent.message.sent", "message:" + id);
  }

  /** The outbox's rows, all workspaces. */
  long rows() {
    return AuditOutboxFixture.rows(a);
  }
}
