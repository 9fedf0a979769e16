package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.MessagingFixture.Scene;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The plan of a send (migration V39; docs/messaging.md, "How a send is stored"): {@code
 * message_send} reads each table by index probes keyed by what the send names (its sender,
 * conversation, recipients and ids) and counts the pending copies up to the quota, whatever the
 * statistics of the moment the connection planned it (V38 keeps that plan for the connection's
 * life). Before V39 the device checks were hashed subplans reading every trusted device of the
 * workspace, and the conversation, agents and machines were scans of the whole workspace joined by
 * a filter. The plans are read with {@code auto_explain}, which reports the plans of the function's
 * statements (and of its inserts' foreign-key checks) to the client; the sends run as the request
 * role, so row-level security's conditions are in the plans as in production.
 */
@ExtendWith(VertxExtension.class)
class SendPlansTest {
  /** The tables a send reads. */
  static final Set<String> TABLES =
      Set.of(
          "messages", "message_ids", "devices", "members", "agents", "machines", "conversations");

  /** The quotas of the sends here: small, so that a count stopped at the quota shows. */
  static final int PER_RECIPIENT = 100;

  static final int PER_SENDER = 200;

  /** A read of a table through an index, and one of the whole table or of an index's range. */
  static final Pattern SCAN =
      Pattern.compile("(Index Scan|Index Only Scan)(?: Backward)? using (\\S+) on (\\w+)");

  static final Pattern WHOLE =
      Pattern.compile("(Seq Scan|Bitmap Heap Scan|Tid Range Scan) on (\\w+)");

  /** An index condition on a key the send names, not the workspace alone. */
  static final Pattern KEYED = Pattern.compile("(?<!\\w)(id|account_id|recipient_id|sender_id) = ");

  static final Pattern ACTUAL_ROWS = Pattern.compile("actual rows=(\\d+)");

  Harness h;
  Scene scene;

  /** What {@code message_send} answered for each send of the last group, in order. */
  List<String> outcomes;

  /** The ids of the sends of the last group, in order. */
  UUID[] sent;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    scene = MessagingFixture.scene(h, "claude");
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  /**
   * In a new deployment's database (a few rows, never analyzed) the planner saw scans of the
   * workspace as cheap as lookups: it chose bitmap scans of the workspace's conversations, agents
   * and machines and a hashed subplan over its trusted devices.
   */
  @Test
  void inAYoungDatabaseTheSendLooksUpOnlyWhatItNames() throws Exception {
    List<String> plans = plansOfASend();
    assertThat(outcomes).containsExactly(null, null);
    assertProbesOnly(plans);
  }

  /**
   * After an ANALYZE of tables that hold mostly other workspaces' rows (and other principals and
   * pending copies of this one), the plan the connection keeps must still look up the send's keys
   * only, and count a recipient's and a sender's pending copies no further than the quota.
   */
  @Test
  void withStatisticsSkewedByOtherWorkspacesTheSendLooksUpOnlyWhatItNames() throws Exception {
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement()) {
      UUID other = UUID.randomUUID();
      st.execute("INSERT INTO control_plane.workspaces VALUES ('" + other + "', 'other', now())");
      st.execute(crowd(other, 1000, 10));
      st.execute(crowd(UUID.fromString(scene.ws()), 200, 5));
      // more copies waiting for the device, from the agent, than either quota
      st.execute(
          """
          INSERT INTO control_plane.messages (workspace_id, id, conversation_id, sender_kind,
            sender_id, recipient_kind, recipient_id, ciphertext, created_at)
          SELECT '%s', gen_random_uuid(), '%s', 'agent', '%s', 'device', '%s', '\\x01', now()
          FROM generate_series(1, 1000)"""
              .formatted(
                  scene.ws(), scene.conversation(), scene.agent().id(), scene.device().id()));
      st.execute(
          "ANALYZE " + String.join(", ", TABLES.stream().map(t -> "control_plane." + t).toList()));
    }
    List<String> plans = plansOfASend();
    assertThat(outcomes).containsExactly(null, "recipient_pending_full");
    assertProbesOnly(plans);
  }

  /**
   * A send's audit row (migration V41) is written with a plan made once per connection: the
   * statement that wrote it before, an {@code INSERT} of the unnested arrays, was planned again on
   * every execution — with the arrays' values known the plan cache expects one row where the
   * generic plan expects the default, judges the generic plan dearer and never switches
   * (MessagingBench: 1 764 plannings in 1 815 sends, a sixth of PostgreSQL's CPU per send). Counted
   * with {@code log_planner_stats} on a kept (named) statement, each send followed by its row in
   * the same transaction, as the request role; the old statement is counted the same way.
   */
  @Test
  void theAuditRowOfASendIsWrittenWithAPlanMadeOncePerConnection() throws Exception {
    List<Integer> function =
        auditRowPlannings(
            "SELECT control_plane.audit_outbox_insert(?::uuid, now(), ?, ?, ?, ?) AS written");
    // the first executions compile the function and plan its statement, the next five plan the
    // call with its values (the plan cache's custom plans); from then on nothing is planned
    assertThat(function.subList(0, 1)).allMatch(n -> n > 0);
    assertThat(function.subList(7, function.size())).as("plannings per row").containsOnly(0);
    List<Integer> statement =
        auditRowPlannings(
            "INSERT INTO control_plane.audit_outbox"
                + " (workspace_id, event_id, event, machine_id, created_at)"
                + " SELECT ?::uuid, u.event_id, u.event,"
                + " (SELECT a.machine_id FROM control_plane.agents a WHERE a.id = u.agent"
                + " LIMIT 1), now()"
                + " FROM unnest(?::uuid[], ?::text[], ?::bytea[], ?::uuid[])"
                + " AS u(message_id, event_id, event, agent)"
                + " WHERE (SELECT true FROM control_plane.message_ids mi"
                + " WHERE mi.workspace_id = ?::uuid AND mi.id = u.message_id"
                + " AND mi.xmin = pg_current_xact_id()::xid LIMIT 1)");
    assertThat(statement.subList(7, statement.size()))
        .as("the statement before V41: planned on every execution")
        .containsOnly(1);
  }

  /**
   * The audit row's plan looks the sending agent and the send's claim up by primary key (a plan
   * that read either table whole, or joined it by a filter, would be kept by the connection as the
   * tables grow), here with the statistics of this young database's few rows, analyzed as
   * autovacuum does once a table has changed a little.
   */
  @Test
  void theAuditRowLooksUpTheAgentAndTheClaimByPrimaryKey() throws Exception {
    String plan = null;
    try (Connection c =
        requestRoleConnection(
            "ANALYZE control_plane.agents, control_plane.message_ids",
            "LOAD 'auto_explain'",
            "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_nested_statements = on",
            "SET auto_explain.log_level = notice")) {
      try (PreparedStatement st =
          c.prepareStatement(
              "SELECT control_plane.audit_outbox_insert(?::uuid, now(), ?, ?, ?, ?) AS written")) {
        for (int i = 0; i < 3; i++) {
          for (String m : writeAuditRows(c, st)) {
            if (m.contains("INSERT INTO control_plane.audit_outbox")) {
              plan = m;
            }
          }
        }
      }
    }
    assertThat(plan).as("the row's plan, reported by auto_explain").isNotNull();
    String shown = plan;
    assertThat(plan.lines().filter(l -> WHOLE.matcher(l).find()).toList()).as(shown).isEmpty();
    assertThat(plan.lines().filter(l -> l.contains(" on message_ids ")).toList())
        .as(shown)
        .isNotEmpty()
        .allMatch(l -> l.contains("Index Scan using message_ids_pkey"));
    assertThat(plan.lines().filter(l -> l.contains(" on agents ")).toList())
        .as(shown)
        .isNotEmpty()
        .allMatch(l -> l.contains("Index Scan using agents_pkey"));
  }

  /**
   * Ten sends, each followed in its transaction by the audit rows of its group written by {@code
   * sql} on a kept statement: the plannings PostgreSQL reported for each row's statement.
   */
  private List<Integer> auditRowPlannings(String sql) throws Exception {
    List<Integer> plannings = new ArrayList<>();
    try (Connection c =
        requestRoleConnection("SET client_min_messages = log", "SET log_planner_stats = on")) {
      try (PreparedStatement st = c.prepareStatement(sql)) {
        for (int i = 0; i < 10; i++) {
          plannings.add(
              (int)
                  writeAuditRows(c, st).stream()
                      .filter(m -> m.contains("PLANNER STATISTICS"))
                      .count());
        }
      }
    }
    return plannings;
  }

  /**
   * One send group, then its audit rows by {@code st} in the same transaction, committed: what
   * PostgreSQL reported for the rows' statement.
   */
  private List<String> writeAuditRows(Connection c, PreparedStatement st) throws Exception {
    sendGroup(c);
    bindAuditRows(c, st);
    st.execute();
    List<String> out = warnings(st.getWarnings());
    assertThat(rowsOfThisTransaction(c)).as("rows written").isEqualTo(2);
    c.commit();
    return out;
  }

  private void bindAuditRows(Connection c, PreparedStatement st) throws Exception {
    st.setObject(1, UUID.fromString(scene.ws()));
    st.setArray(2, c.createArrayOf("uuid", sent));
    st.setArray(3, c.createArrayOf("text", new Object[] {"e-" + sent[0], "e-" + sent[1]}));
    st.setArray(4, c.createArrayOf("bytea", new byte[][] {{1}, {2}}));
    st.setArray(5, c.createArrayOf("uuid", new Object[] {null, scene.agent().id()}));
    if (st.getParameterMetaData().getParameterCount() == 6) { // the statement before V41
      st.setObject(6, UUID.fromString(scene.ws()));
    }
  }

  /** The audit rows this transaction wrote. */
  private int rowsOfThisTransaction(Connection c) throws Exception {
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM control_plane.audit_outbox"
                    + " WHERE xmin = pg_current_xact_id()::xid")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * A connection as the request role in the scene's workspace after {@code settings} (made as the
   * owner: the logging ones are a superuser's), statements kept (named) from their first execution,
   * not in autocommit.
   */
  private Connection requestRoleConnection(String... settings) throws Exception {
    Connection c = h.pg.ownerConnection();
    c.unwrap(org.postgresql.PGConnection.class).setPrepareThreshold(1);
    try (Statement st = c.createStatement()) {
      for (String setting : settings) {
        st.execute(setting);
      }
      st.execute("SET ROLE " + h.service.database().appRole());
      st.execute("SET umbra.workspace_id = '" + scene.ws() + "'");
    }
    c.setAutoCommit(false);
    return c;
  }

  private static List<String> warnings(SQLWarning first) {
    List<String> out = new ArrayList<>();
    for (SQLWarning w = first; w != null; w = w.getNextWarning()) {
      out.add(w.getMessage());
    }
    return out;
  }

  /**
   * {@code n} accounts with a member, a trusted device, a machine with an approved agent and their
   * conversation each in workspace {@code ws}, and {@code copies} claims and pending copies for
   * each of those agents: SQL for the schema's owner.
   */
  static String crowd(UUID ws, int n, int copies) {
    return """
        CREATE TEMP TABLE crowd AS
          SELECT gen_random_uuid() AS id, i FROM generate_series(1, %2$d) i;
        INSERT INTO control_plane.accounts SELECT id, 'crowd', now() FROM crowd;
        INSERT INTO control_plane.members
          SELECT '%1$s', gen_random_uuid(), id, 'member', now() FROM crowd;
        INSERT INTO control_plane.devices (workspace_id, id, account_id, ed25519_public_key,
            p256_public_key, name, kind, status, request_payload, request_signature, created_at)
          SELECT '%1$s', id, id, sha256(id::text::bytea), sha512(id::text::bytea) || '\\x04',
            'crowd', 'cli', 'trusted', '', sha512(i::text::bytea), now() FROM crowd;
        INSERT INTO control_plane.machines (workspace_id, id, install_id, x25519_public_key,
            ed25519_public_key, name, os, created_at)
          SELECT '%1$s', id, id, sha256(id::text::bytea), sha256(i::text::bytea), 'crowd',
            'linux', now() FROM crowd;
        INSERT INTO control_plane.agents (workspace_id, id, machine_id, name, ed25519_public_key,
            x25519_public_key, status, created_at)
          SELECT '%1$s', id, id, 'crowd', sha256(id::text::bytea), sha256(i::text::bytea),
            'approved', now() FROM crowd;
        INSERT INTO control_plane.conversations SELECT '%1$s', id, id, id, now() FROM crowd;
        CREATE TEMP TABLE crowd_copies AS
          SELECT gen_random_uuid() AS mid, id FROM crowd, generate_series(1, %3$d);
        INSERT INTO control_plane.message_ids
          SELECT '%1$s', mid, id, id, now() FROM crowd_copies;
        INSERT INTO control_plane.messages (workspace_id, id, conversation_id, sender_kind,
            sender_id, recipient_kind, recipient_id, ciphertext, created_at)
          SELECT '%1$s', mid, id, 'device', id, 'agent', id, '\\x01', now() FROM crowd_copies;
        DROP TABLE crowd, crowd_copies;
        """
        .formatted(ws, n, copies);
  }

  /**
   * The plans {@code auto_explain} reported for the third of three groups sent on one connection
   * (the plan cache keeps what it made for the first): each group one device → agent send and one
   * agent → device send, as the request role in the scene's workspace.
   */
  List<String> plansOfASend() throws Exception {
    List<String> plans = List.of();
    try (Connection c = h.pg.ownerConnection()) {
      try (Statement st = c.createStatement()) {
        st.execute("LOAD 'auto_explain'");
        st.execute("SET auto_explain.log_min_duration = 0");
        st.execute("SET auto_explain.log_nested_statements = on");
        st.execute("SET auto_explain.log_analyze = on");
        st.execute("SET auto_explain.log_timing = off");
        st.execute("SET auto_explain.log_level = notice");
        st.execute("SET ROLE " + h.service.database().appRole());
        st.execute("SET umbra.workspace_id = '" + scene.ws() + "'");
      }
      for (int i = 0; i < 3; i++) {
        plans = sendGroup(c);
      }
    }
    assertThat(plans)
        .as("the send's plan, reported by auto_explain")
        .anyMatch(p -> p.contains("Query Text: WITH s AS"));
    return plans;
  }

  private List<String> sendGroup(Connection c) throws Exception {
    UUID conversation = UUID.fromString(scene.conversation());
    UUID device = scene.device().id();
    UUID agent = scene.agent().id();
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT refused FROM control_plane.message_send(?::uuid, ?, ?, ?, ?, ?, ?, ?,"
                + " ARRAY['\\x09'::bytea, '\\x09'::bytea], now(), ?, ?)")) {
      st.setObject(1, UUID.fromString(scene.ws()));
      sent = new UUID[] {UUID.randomUUID(), UUID.randomUUID()};
      st.setArray(2, c.createArrayOf("uuid", sent));
      st.setArray(3, c.createArrayOf("uuid", new Object[] {conversation, conversation}));
      st.setArray(4, c.createArrayOf("text", new Object[] {"device", "agent"}));
      st.setArray(5, c.createArrayOf("uuid", new Object[] {device, agent}));
      st.setArray(
          6,
          c.createArrayOf("uuid", new Object[] {UUID.fromString(scene.owner().accountId()), null}));
      st.setArray(7, c.createArrayOf("int8", new Object[] {1L, 2L}));
      st.setArray(8, c.createArrayOf("uuid", new Object[] {agent, device}));
      st.setInt(9, PER_RECIPIENT);
      st.setInt(10, PER_SENDER);
      outcomes = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          outcomes.add(rs.getString(1));
        }
      }
      return warnings(st.getWarnings());
    }
  }

  /**
   * Every read of {@link #TABLES} in {@code plans} is an index scan whose condition holds a key the
   * send names, every count of pending copies reads no more than the quota, and each table is read:
   * the faults, all collected, as the assertion's failure.
   */
  static void assertProbesOnly(List<String> plans) {
    List<String> faults = new ArrayList<>();
    Set<String> read = new TreeSet<>();
    for (String plan : plans) {
      List<String> lines = plan.lines().toList();
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        Matcher whole = WHOLE.matcher(line);
        if (whole.find() && TABLES.contains(whole.group(2))) {
          faults.add(line.strip());
        }
        Matcher scan = SCAN.matcher(line);
        if (!scan.find() || !TABLES.contains(scan.group(3))) {
          continue;
        }
        read.add(scan.group(3));
        String cond = indexCond(lines, i);
        if (cond == null || !KEYED.matcher(cond).find()) {
          faults.add(line.strip() + " / " + cond);
        }
        // a count's rows per loop: the copies waiting for a recipient, or from a sender
        int quota = scan.group(2).equals("messages_pending") ? PER_RECIPIENT : PER_SENDER;
        Matcher rows = ACTUAL_ROWS.matcher(line);
        if (scan.group(3).equals("messages")
            && rows.find()
            && Integer.parseInt(rows.group(1)) > quota) {
          faults.add("a count read past the quota: " + line.strip());
        }
      }
    }
    assertThat(faults).as(String.join("\n=====\n", plans)).isEmpty();
    assertThat(read).as("tables read").isEqualTo(new TreeSet<>(TABLES));
  }

  /** The index condition of the scan on {@code lines[at]}, or null if it has none. */
  private static String indexCond(List<String> lines, int at) {
    for (int j = at + 1; j < lines.size() && !lines.get(j).contains("->"); j++) {
      if (lines.get(j).strip().startsWith("Index Cond:")) {
        return lines.get(j).strip();
      }
    }
    return null;
  }
}
