package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.controlplane.MessagingFixture.Scene;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The checks of a send, made by PostgreSQL in the statement that stores it ({@code message_send},
 * migration V33; docs/messaging.md, "How a send is stored"): the sender still active, the
 * conversation one of the sender's, every copy for an active principal of its other side, all under
 * the workspace's row-level security. The principals here are revoked in the database only (the
 * revocation list does not know), so the statement is the only thing that can refuse.
 */
@ExtendWith(VertxExtension.class)
class SendChecksTest {
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
    return scene.owner().workspaceId();
  }

  Harness.Response send(String session, String conversation, UUID recipient) {
    return h.call(
        "POST",
        "/v1/workspaces/" + ws() + "/messages",
        session,
        MessagingFixture.message(
            UUID.randomUUID().toString(), conversation, recipient, new byte[] {1}));
  }

  Harness.Response fromAgent() {
    return send(scene.agent().session(), scene.conversation(), scene.device().id());
  }

  Harness.Response fromDevice() {
    return send(scene.device().session(), scene.conversation(), scene.agent().id());
  }

  void owner(String sql, UUID id) throws Exception {
    owner(h, sql, id);
  }

  /** Runs {@code sql} (one row changed, {@code id} its parameter) as the schema's owner. */
  static void owner(Harness h, String sql, UUID id) throws Exception {
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setObject(1, id);
      assertThat(st.executeUpdate()).as(sql).isEqualTo(1);
    }
  }

  int pending(String session) {
    return h.call("GET", "/v1/workspaces/" + ws() + "/messages", session, null)
        .body()
        .getJsonArray("items")
        .size();
  }

  static void refused(Harness.Response r, int status, String code) {
    assertThat(r.status()).as(r.body().encode()).isEqualTo(status);
    assertThat(r.errorCode()).isEqualTo(code);
  }

  @Test
  void anAgentRevokedBetweenTwoOfItsSendsHasTheSecondRefusedAndReceivesNothingMore()
      throws Exception {
    assertThat(fromAgent().status()).isEqualTo(200);
    owner("UPDATE control_plane.agents SET status = 'revoked' WHERE id = ?", scene.agent().id());
    refused(fromAgent(), 403, "principal_not_active");
    refused(fromDevice(), 403, "not_a_party");
    assertThat(pending(scene.device().session())).as("only the first send").isEqualTo(1);
  }

  @Test
  void anAgentWhoseMachineWasRevokedIsRefused() throws Exception {
    assertThat(fromAgent().status()).isEqualTo(200);
    owner(
        "UPDATE control_plane.machines SET revoked_at = now() WHERE id ="
            + " (SELECT machine_id FROM control_plane.agents WHERE id = ?)",
        scene.agent().id());
    refused(fromAgent(), 403, "principal_not_active");
    refused(fromDevice(), 403, "not_a_party");
    assertThat(pending(scene.device().session())).isEqualTo(1);
  }

  @Test
  void aDeviceNoLongerTrustedBetweenTwoOfItsSendsHasTheSecondRefusedAndReceivesNothingMore()
      throws Exception {
    assertThat(fromDevice().status()).isEqualTo(200);
    owner("UPDATE control_plane.devices SET status = 'revoked' WHERE id = ?", scene.device().id());
    Harness.Response second = fromDevice();
    refused(second, 403, "principal_not_active");
    assertThat(second.body().getJsonObject("error").getString("message"))
        .isEqualTo("the device is not trusted or was revoked");
    refused(fromAgent(), 403, "not_a_party");
    assertThat(pending(scene.agent().session())).as("only the first send").isEqualTo(1);
  }

  @Test
  void rowLevelSecurityKeepsAnotherWorkspacesConversationAndPrincipalsOut() {
    // the same member's workspace B: her device there, an agent there and their conversation
    MessagingFixture.OtherWorkspace b = MessagingFixture.otherWorkspace(h, scene);
    String wsB = b.ws();
    MessagingFixture.Device deviceB = b.device();
    MessagingFixture.AgentKeys agentB = b.agent();
    String conversationB = b.conversation();

    refused(send(scene.device().session(), conversationB, agentB.id()), 404, "not_found");
    Harness.Response toB = send(scene.agent().session(), scene.conversation(), deviceB.id());
    refused(toB, 403, "not_a_party");
    assertThat(toB.body().getJsonObject("error").getString("message")).contains(deviceB.id() + "");
    refused(send(scene.device().session(), scene.conversation(), agentB.id()), 403, "not_a_party");
    assertThat(pending(scene.agent().session())).isZero();
    assertThat(pending(scene.device().session())).isZero();
  }

  @Test
  void oneStatementRefusesEachSendOfAGroupAloneAndStoresTheOthersInOrder() throws Exception {
    UUID device = scene.device().id();
    UUID account = UUID.fromString(scene.owner().accountId());
    UUID agent = scene.agent().id();
    UUID conversation = UUID.fromString(scene.conversation());
    UUID stranger = UUID.randomUUID();
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(UUID.randomUUID());
    }
    // 0 accepted; 1 an unknown device; 2 a conversation not the agent's; 3 one copy for a
    // stranger after a good one; 4 a kind that is no party; 5 accepted
    Group g = new Group();
    g.add(ids.get(0), conversation, "device", device, account, agent);
    g.add(ids.get(1), conversation, "device", UUID.randomUUID(), account, agent);
    g.add(ids.get(2), UUID.randomUUID(), "agent", agent, null, device);
    g.add(ids.get(3), conversation, "agent", agent, null, device, stranger);
    g.add(ids.get(4), conversation, "member", device, account, agent);
    g.add(ids.get(5), conversation, "agent", agent, null, device);

    List<Row> rows = g.run();
    assertThat(rows).hasSize(6);
    assertThat(rows.stream().map(r -> r.getString("refused")))
        .containsExactly(
            null,
            "principal_not_active",
            "conversation",
            "not_a_party",
            "principal_not_active",
            null);
    assertThat(rows.get(3).getUUID("stranger")).isEqualTo(stranger);
    assertThat(rows.get(0).getArrayOfUUIDs("fresh")).containsExactly(agent);
    assertThat(rows.get(5).getArrayOfUUIDs("fresh")).containsExactly(device);
    assertThat(rows.get(5).getUUID("machine")).isNotNull();
    assertThat(rows.get(5).getUUID("account")).isEqualTo(account);
    for (int i = 1; i < 5; i++) {
      assertThat(rows.get(i).getArrayOfUUIDs("fresh")).as("send " + i).isEmpty();
    }
    assertThat(claimedIds())
        .as("a refused send claims no id")
        .containsExactlyInAnyOrder(ids.get(0), ids.get(5));

    // a resend is stored once; an id another sender holds aborts the whole statement
    assertThat(g.run().get(0).getArrayOfUUIDs("fresh")).as("a resend").isEmpty();
    Group taken = new Group();
    UUID fresh = UUID.randomUUID();
    taken.add(fresh, conversation, "device", device, account, agent);
    taken.add(ids.get(5), conversation, "device", device, account, agent);
    assertThatThrownBy(taken::run)
        .isInstanceOfSatisfying(
            PgException.class, e -> assertThat(e.getSqlState()).isEqualTo("UM001"));
    assertThat(claimedIds()).as("nothing of it kept").doesNotContain(fresh);
  }

  @Test
  void theIdCheckReadsTheClaimsOfTheSentIdsNotTheWorkspacesHistory() throws Exception {
    // 3 000 ids claimed earlier in the workspace (kept for the retention period), no ANALYZE since:
    // a young table's statistics, as in a workspace's first days and in the bench that found it
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement st =
            c.prepareStatement(
                "INSERT INTO control_plane.message_ids"
                    + " (workspace_id, id, recipient_id, sender_id, created_at)"
                    + " SELECT ?, gen_random_uuid(), ?, ?, now() FROM generate_series(1, 3000)")) {
      st.setObject(1, UUID.fromString(ws()));
      st.setObject(2, scene.agent().id());
      st.setObject(3, scene.device().id());
      assertThat(st.executeUpdate()).isEqualTo(3000);
    }
    UUID[] ids = {UUID.randomUUID(), UUID.randomUUID()};
    UUID[] senders = {scene.device().id(), scene.device().id()};
    long read =
        h.service
            .database()
            .inWorkspace(
                UUID.fromString(ws()),
                conn ->
                    // the join the bench's planner chose (a hash join): the check must read the
                    // sent ids' claims only whatever join the statistics of the day lead to
                    conn.query("SET LOCAL enable_nestloop = off")
                        .execute()
                        .compose(
                            y ->
                                conn.preparedQuery(
                                        "SELECT control_plane.message_ids_check_senders($1, $2)")
                                    .execute(Tuple.tuple().addValue(ids).addValue(senders)))
                        .compose(
                            x ->
                                conn.query(
                                        "SELECT pg_stat_get_xact_tuples_fetched(r)"
                                            + " + pg_stat_get_xact_tuples_returned(r) FROM"
                                            + " (SELECT 'control_plane.message_ids'::regclass AS r)"
                                            + " t")
                                    .execute()
                                    .map(rs -> rs.iterator().next().getLong(0))))
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    assertThat(read).as("claims read by the check of two fresh ids").isLessThan(10);
  }

  List<UUID> claimedIds() throws Exception {
    List<UUID> out = new ArrayList<>();
    try (Connection c = h.pg.ownerConnection();
        var rs =
            c.createStatement().executeQuery("SELECT DISTINCT id FROM control_plane.message_ids")) {
      while (rs.next()) {
        out.add(rs.getObject(1, UUID.class));
      }
    }
    return out;
  }

  /** Sends for one call of {@code message_send}, as the request role in the workspace. */
  final class Group {
    final List<UUID> ids = new ArrayList<>();
    final List<UUID> conversations = new ArrayList<>();
    final List<String> kinds = new ArrayList<>();
    final List<UUID> senders = new ArrayList<>();
    final List<UUID> accounts = new ArrayList<>();
    final List<Long> copySends = new ArrayList<>();
    final List<UUID> recipients = new ArrayList<>();

    void add(
        UUID id, UUID conversation, String kind, UUID sender, UUID account, UUID... recipients) {
      ids.add(id);
      conversations.add(conversation);
      kinds.add(kind);
      senders.add(sender);
      accounts.add(account);
      for (UUID r : recipients) {
        copySends.add((long) ids.size());
        this.recipients.add(r);
      }
    }

    List<Row> run() throws Exception {
      Buffer[] cts = new Buffer[recipients.size()];
      java.util.Arrays.fill(cts, Buffer.buffer(new byte[] {9}));
      Tuple args =
          Tuple.tuple()
              .addValue(UUID.fromString(ws()))
              .addValue(ids.toArray(new UUID[0]))
              .addValue(conversations.toArray(new UUID[0]))
              .addValue(kinds.toArray(new String[0]))
              .addValue(senders.toArray(new UUID[0]))
              .addValue(accounts.toArray(new UUID[0]))
              .addValue(copySends.toArray(new Long[0]))
              .addValue(recipients.toArray(new UUID[0]))
              .addValue(cts)
              .addValue(OffsetDateTime.now())
              .addValue(5000)
              .addValue(20000);
      try {
        return h.service
            .database()
            .inWorkspace(
                UUID.fromString(ws()),
                conn ->
                    conn.preparedQuery(
                            "SELECT refused, machine, account, stranger, fresh FROM"
                                + " message_send($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
                                + " $12)")
                        .execute(args)
                        .map(
                            rs -> {
                              List<Row> out = new ArrayList<>();
                              rs.forEach(out::add);
                              return out;
                            }))
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : e;
      }
    }
  }
}
