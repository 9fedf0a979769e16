package dev.umbra.controlplane;

import static dev.umbra.controlplane.MessagingFixture.asOwner;
import static dev.umbra.controlplane.MessagingFixture.refused;
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
    return scene.ws();
  }

  Harness.Response send(String session, String conversation, UUID recipient) {
    return scene.send(h, session, conversation, recipient);
  }

  @Test
  void anAgentRevokedBetweenTwoOfItsSendsHasTheSecondRefusedAndReceivesNothingMore()
      throws Exception {
    assertThat(scene.fromAgent(h).status()).isEqualTo(200);
    asOwner(
        h, "UPDATE control_plane.agents SET status = 'revoked' WHERE id = ?", scene.agent().id());
    refused(scene.fromAgent(h), 403, "principal_not_active");
    refused(scene.fromDevice(h), 403, "not_a_party");
    assertThat(scene.pending(h, scene.device().session())).as("only the first send").hasSize(1);
  }

  @Test
  void anAgentWhoseMachineWasRevokedIsRefused() throws Exception {
    assertThat(scene.fromAgent(h).status()).isEqualTo(200);
    asOwner(
        h,
        "UPDATE control_plane.machines SET revoked_at = now() WHERE id ="
            + " (SELECT machine_id FROM control_plane.agents WHERE id = ?)",
        scene.agent().id());
    refused(scene.fromAgent(h), 403, "principal_not_active");
    refused(scene.fromDevice(h), 403, "not_a_party");
    assertThat(scene.pending(h, scene.device().session())).hasSize(1);
  }

  @Test
  void aDeviceNoLongerTrustedBetweenTwoOfItsSendsHasTheSecondRefusedAndReceivesNothingMore()
      throws Exception {
    assertThat(scene.fromDevice(h).status()).isEqualTo(200);
    asOwner(
        h, "UPDATE control_plane.devices SET status = 'revoked' WHERE id = ?", scene.device().id());
    Harness.Response second = scene.fromDevice(h);
    refused(second, 403, "principal_not_active");
    assertThat(second.body().getJsonObject("error").getString("message"))
        .isEqualTo("the device is not trusted or was revoked");
    refused(scene.fromAgent(h), 403, "not_a_party");
    assertThat(scene.pending(h, scene.agent().session())).as("only the first send").hasSize(1);
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
    assertThat(scene.pending(h, scene.agent().session())).isEmpty();
    assertThat(scene.pending(h, scene.device().session())).isEmpty();
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
        MessagingFixture.await(
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
                                        .map(rs -> rs.iterator().next().getLong(0)))));
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

  /**
   * {@code message_send} plans its statements once per connection (migration V38). PostgreSQL's
   * plan cache otherwise plans them anew with each call's values for at least the first five calls
   * after every invalidation (a new connection, an ANALYZE of a table they read), and on every call
   * for as long as it estimates the generic plan dearer than those — as with MessagingBench's data,
   * where planning was half of PostgreSQL's CPU per send. Counted with {@code log_planner_stats}:
   * every planning on the connection reports its statistics to the client; the call itself (an
   * unnamed statement) is planned once per execution, so each later send reports exactly one
   * (without V38 here: 7, 7, 7, 7, 6, then 1 — this small database's costs let the cache switch).
   */
  @Test
  void plansItsStatementOncePerConnectionNotOnEverySend() throws Exception {
    List<Integer> plannings = new ArrayList<>();
    try (Connection c = h.pg.ownerConnection()) {
      c.unwrap(org.postgresql.PGConnection.class).setPrepareThreshold(0);
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("SET umbra.workspace_id = '" + ws() + "'");
        st.execute("SET client_min_messages = log");
        st.execute("SET log_planner_stats = on");
      }
      for (int i = 0; i < 10; i++) {
        plannings.add(
            (int) reports(c).stream().filter(m -> m.contains("PLANNER STATISTICS")).count());
      }
    }
    // the first send compiles the function and plans its statements; every later one plans only
    // its own call (without V38: that and the function's statement, every time)
    assertThat(plannings.getFirst()).isGreaterThan(1);
    assertThat(plannings.subList(1, plannings.size())).as("plannings per send").containsOnly(1);
  }

  /**
   * The "id held by another sender" check (migration V38) looks each id of the send up by primary
   * key, whatever the statistics: in this young database (the statistics of a few rows, as in a new
   * deployment) V36's form was planned as a scan of every claim of the workspace with the ids as a
   * filter, which grew with every message kept. The plan is read with {@code auto_explain}, which
   * reports the plans of the function's statements to the client.
   */
  @Test
  void theIdCheckLooksEachIdUpByPrimaryKeyWhateverTheStatistics() throws Exception {
    String plan = null;
    try (Connection c = h.pg.ownerConnection()) {
      try (java.sql.Statement st = c.createStatement()) {
        st.execute("LOAD 'auto_explain'");
        st.execute("SET auto_explain.log_min_duration = 0");
        st.execute("SET auto_explain.log_nested_statements = on");
        st.execute("SET auto_explain.log_level = notice");
        st.execute("SET umbra.workspace_id = '" + ws() + "'");
      }
      // a few sends first: the plan cache keeps what it made for the first of them
      for (int i = 0; i < 3; i++) {
        for (String m : reports(c)) {
          if (m.contains("Query Text: EXISTS") && m.contains("message_ids")) {
            plan = m;
          }
        }
      }
    }
    assertThat(plan).as("the check's plan, reported by auto_explain").isNotNull();
    List<String> scans =
        plan.lines().filter(l -> l.contains(" on message_ids ")).map(String::strip).toList();
    assertThat(scans)
        .as(plan)
        .isNotEmpty()
        .allMatch(l -> l.contains("Index Scan using message_ids_pkey"));
    assertThat(plan.lines().filter(l -> l.strip().startsWith("Index Cond:")).toList())
        .as(plan)
        .isNotEmpty()
        .allMatch(l -> l.contains("(id = u.id)"));
  }

  /**
   * One device → agent send by a call of {@code message_send} on {@code c} (JDBC, as the schema's
   * owner, the workspace set), which must store it; what PostgreSQL reported to the client
   * meanwhile (notices and log lines, e.g. planner statistics or auto_explain's plans).
   */
  private List<String> reports(Connection c) throws Exception {
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT refused FROM control_plane.message_send(?::uuid, ?, ?, ?, ?, ?, ?, ?,"
                + " ARRAY['\\x09'::bytea], now(), 5000, 20000)")) {
      st.setObject(1, UUID.fromString(ws()));
      st.setArray(2, c.createArrayOf("uuid", new Object[] {UUID.randomUUID()}));
      st.setArray(3, c.createArrayOf("uuid", new Object[] {UUID.fromString(scene.conversation())}));
      st.setArray(4, c.createArrayOf("text", new Object[] {"device"}));
      st.setArray(5, c.createArrayOf("uuid", new Object[] {scene.device().id()}));
      st.setArray(
          6, c.createArrayOf("uuid", new Object[] {UUID.fromString(scene.owner().accountId())}));
      st.setArray(7, c.createArrayOf("int8", new Object[] {1L}));
      st.setArray(8, c.createArrayOf("uuid", new Object[] {scene.agent().id()}));
      try (java.sql.ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).as("the send refused").isNull();
      }
      List<String> out = new ArrayList<>();
      for (java.sql.SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
        out.add(w.getMessage());
      }
      return out;
    }
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
      return MessagingFixture.await(
          h.service
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
                              })));
    }
  }
}
