package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Vertx;
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
 * An action that changes who may do what is audited even when its instance dies between the commit
 * and the append to the audit stream (docs/audit.md, "Written down before appended"): its event is
 * written down in the action's transaction and appended by any instance's sweep, once, under its
 * own id. Here a machine's revocation (unpairing) and an agent's revocation, each on an instance
 * whose Redis link is cut, which is then stopped; an action that is refused writes nothing; an
 * instance that appended its event deletes the row itself.
 */
@ExtendWith(VertxExtension.class)
class ActionAuditOutboxTest {
  Harness a;
  Harness.Owner owner;
  final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    owner = a.bootstrap("A");
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

  int unpair(Harness h, UUID machine) {
    return h.call(
            "DELETE",
            "/v1/workspaces/" + owner.workspaceId() + "/machines/" + machine,
            owner.token(),
            null)
        .status();
  }

  @Test
  void anUnpairingWhoseInstanceDiedBeforeAppendingItsEventIsAuditedByAnotherInstancesSweep(
      Vertx vertx) throws Exception {
    UUID machine = MessagingFixture.machine(a, owner.workspaceId()).id();
    Harness c = cutOffFromRedis(vertx);
    assertThat(unpair(c, machine)).isBetween(200, 204);
    assertThat(rows()).isOne();
    c.stopService(); // what was not appended is gone with the instance

    assertThat(unpaired(machine)).isEmpty();
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox()))
        .as("nothing is due before the sweep's age")
        .isZero();
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isOne();
    assertThat(rows()).isZero();
    assertThat(unpaired(machine)).singleElement();
    AuditEvent e = unpaired(machine).getFirst();
    assertThat(e.getActor().getKind()).isEqualTo(ActorKind.ACTOR_KIND_MEMBER);
    assertThat(e.getActor().getId()).isEqualTo(owner.accountId());
    assertThat(e.getWorkspaceId()).isEqualTo(owner.workspaceId());

    // a second sweep finds nothing: the event is appended once
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isZero();
    assertThat(unpaired(machine)).hasSize(1);
  }

  @Test
  void anAgentRevokedOnAnInstanceThatDiedIsAuditedByAnotherInstancesSweep(Vertx vertx)
      throws Exception {
    UUID agent =
        MessagingFixture.approvedAgent(
                a, owner.token(), MessagingFixture.machine(a, owner.workspaceId()), "claude")
            .id();
    Eventually.await("the approval's audit row deleted", Duration.ofSeconds(20), () -> rows() == 0);
    Harness c = cutOffFromRedis(vertx);
    Harness.Response r =
        c.call(
            "POST",
            "/v1/workspaces/" + owner.workspaceId() + "/agents/" + agent + "/revocation",
            owner.token(),
            new io.vertx.core.json.JsonObject());
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    assertThat(rows()).isOne();
    c.stopService();
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isOne();
    List<AuditEvent> revoked = AuditOutboxFixture.events(a, "agent.revoked", "agent:" + agent);
    assertThat(revoked).singleElement();
    assertThat(revoked.getFirst().getActor().getId()).isEqualTo(owner.accountId());
  }

  @Test
  void anInvitationRedeemedOnAnInstanceThatDiedIsAuditedByAnotherInstancesSweep(Vertx vertx)
      throws Exception {
    Harness.Response invited =
        a.call(
            "POST",
            "/v1/workspaces/" + owner.workspaceId() + "/invitations",
            owner.token(),
            new io.vertx.core.json.JsonObject().put("role", "member"));
    assertThat(invited.status()).isEqualTo(201);
    Eventually.await("earlier events' rows deleted", Duration.ofSeconds(20), () -> rows() == 0);
    Harness c = cutOffFromRedis(vertx);
    Harness.Response joined =
        c.call(
            "POST",
            "/v1/invitations/accept",
            null,
            new io.vertx.core.json.JsonObject()
                .put("token", invited.body().getString("token"))
                .put("account_name", "bob"));
    assertThat(joined.status()).as(joined.body().encode()).isEqualTo(201);
    assertThat(rows()).as("written down in the transaction that made the member").isOne();
    c.stopService();
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isOne();
    List<AuditEvent> events =
        AuditOutboxFixture.events(
            a, "member.joined", "member:" + joined.body().getString("member_id"));
    assertThat(events).singleElement();
    assertThat(events.getFirst().getActor().getId())
        .isEqualTo(joined.body().getString("account_id"));
  }

  @Test
  void aRefusedActionWritesNoRowAndNoEvent(Vertx vertx) throws Exception {
    Harness c = cutOffFromRedis(vertx);
    UUID nobody = UUID.randomUUID();
    assertThat(unpair(c, nobody)).isEqualTo(404);
    assertThat(rows()).isZero();
    c.stopService();
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isZero();
    assertThat(unpaired(nobody)).isEmpty();
  }

  @Test
  void anInstanceThatAppendedTheEventDeletesItsRow() throws Exception {
    UUID machine = MessagingFixture.machine(a, owner.workspaceId()).id();
    assertThat(unpair(a, machine)).isBetween(200, 204);
    Eventually.await(
        "the event appended", Duration.ofSeconds(20), () -> unpaired(machine).size() == 1);
    Eventually.await("its row deleted", Duration.ofSeconds(20), () -> rows() == 0);
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isZero();
    assertThat(unpaired(machine)).hasSize(1);
  }

  /** The {@code machine.unpaired} events of {@code machine} in the audit stream. */
  List<AuditEvent> unpaired(UUID machine) {
    return AuditOutboxFixture.events(a, "machine.unpaired", "machine:" + machine);
  }

  /** The outbox's rows, all workspaces. */
  long rows() {
    return AuditOutboxFixture.rows(a);
  }
}
