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
      st.setArray(2, c.createArrayOf("uuid", new Object[] {UUID.randomUUID(), UUID.randomUUID()}));
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
      List<String> out = new ArrayList<>();
      for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
        out.add(w.getMessage());
      }
      return out;
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
