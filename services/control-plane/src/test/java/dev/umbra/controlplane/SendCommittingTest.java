package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.controlplane.MessagingFixture.Scene;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A group of devices' sends as one statement that is its own transaction ({@code
 * message_send_committing}, migration V42; docs/messaging.md, "How a send is stored"): the
 * workspace setting, the send and its audit rows in one call, committed when it answers. Called
 * here as the request role (the owner's session with {@code SET ROLE}, so row-level security
 * applies) on one connection in autocommit, as {@code Database.ownTransaction} sends it.
 */
@ExtendWith(VertxExtension.class)
class SendCommittingTest {
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

  @Test
  void storesTheSendWithItsAuditRowAndLeavesNoWorkspaceSettingOnTheSession() throws Exception {
    UUID id = UUID.randomUUID();
    try (Connection c = asRequestRole()) {
      try (ResultSet rs = call(c, id, "ev-stored").executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString("refused")).isNull();
        assertThat((Object[]) rs.getArray("fresh").getArray()).containsExactly(scene.agent().id());
        assertThat(rs.next()).as("one row per send").isFalse();
      }
      // the setting was local to the statement's transaction: the next statement on the session
      // sees no workspace, so no row of this one
      try (Statement st = c.createStatement();
          ResultSet rs =
              st.executeQuery("SELECT current_setting('umbra.workspace_id', true) AS s")) {
        rs.next();
        assertThat(rs.getString("s")).isNotEqualTo(scene.ws());
      }
      assertThat(conversationsSeen(c)).as("conversations seen with no setting").isZero();
    }
    assertThat(count("SELECT count(*) FROM control_plane.messages WHERE id = '" + id + "'"))
        .as("committed: another session reads it")
        .isEqualTo(1);
    assertThat(
            count("SELECT count(*) FROM control_plane.audit_outbox WHERE event_id = 'ev-stored'"))
        .isEqualTo(1);
  }

  @Test
  void anIdHeldByAnotherSenderRollsBackTheWholeCallItsAuditRowIncluded() throws Exception {
    UUID taken = UUID.randomUUID();
    try (Connection owner = h.pg.ownerConnection();
        PreparedStatement st =
            owner.prepareStatement(
                "INSERT INTO control_plane.message_ids"
                    + " (workspace_id, id, recipient_id, sender_id, created_at)"
                    + " VALUES (?, ?, ?, ?, now())")) {
      st.setObject(1, UUID.fromString(scene.ws()));
      st.setObject(2, taken);
      st.setObject(3, UUID.randomUUID());
      st.setObject(4, UUID.randomUUID()); // another sender
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
    try (Connection c = asRequestRole()) {
      assertThatThrownBy(() -> call(c, taken, "ev-taken").executeQuery())
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("UM001"));
      // the session is usable at once: no (aborted) transaction block was left open
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
    }
    assertThat(count("SELECT count(*) FROM control_plane.messages")).isZero();
    // the scene's own actions (a device approved) may still have rows: only this call's is counted
    assertThat(count("SELECT count(*) FROM control_plane.audit_outbox WHERE event_id = 'ev-taken'"))
        .isZero();
    assertThat(
            count(
                "SELECT count(*) FROM control_plane.message_ids WHERE id = '"
                    + taken
                    + "' AND recipient_id = '"
                    + scene.agent().id()
                    + "'"))
        .as("no claim kept")
        .isZero();
  }

  @Test
  void aCallForAnotherWorkspaceFindsNoneOfThisOnesRows() throws Exception {
    MessagingFixture.OtherWorkspace b = MessagingFixture.otherWorkspace(h, scene);
    try (Connection c = asRequestRole();
        PreparedStatement st = call(c, UUID.randomUUID(), "ev-other", UUID.fromString(b.ws()));
        ResultSet rs = st.executeQuery()) {
      assertThat(rs.next()).isTrue();
      // this workspace's device is not a principal of workspace B
      assertThat(rs.getString("refused")).isEqualTo("principal_not_active");
    }
    assertThat(count("SELECT count(*) FROM control_plane.messages")).isZero();
    assertThat(count("SELECT count(*) FROM control_plane.audit_outbox WHERE event_id = 'ev-other'"))
        .isZero();
  }

  /** The owner's session turned into the request role (row-level security applies to it). */
  private Connection asRequestRole() throws SQLException {
    Connection c = h.pg.ownerConnection();
    try (Statement st = c.createStatement()) {
      st.execute("SET ROLE " + h.service.database().appRole());
    }
    return c;
  }

  private PreparedStatement call(Connection c, UUID id, String eventId) throws SQLException {
    return call(c, id, eventId, UUID.fromString(scene.ws()));
  }

  /** One device → agent send with its audit row, for {@code wid}. */
  private PreparedStatement call(Connection c, UUID id, String eventId, UUID wid)
      throws SQLException {
    PreparedStatement st =
        c.prepareStatement(
            "SELECT refused, fresh FROM control_plane.message_send_committing(?::uuid, ?, ?, ?, ?,"
                + " ?, ?, ?, ARRAY['\\x09'::bytea], now(), 5000, 20000, ?, ?,"
                + " ARRAY['\\x0a0b'::bytea], ARRAY[NULL::uuid])");
    st.setObject(1, wid);
    st.setArray(2, c.createArrayOf("uuid", new Object[] {id}));
    st.setArray(3, c.createArrayOf("uuid", new Object[] {UUID.fromString(scene.conversation())}));
    st.setArray(4, c.createArrayOf("text", new Object[] {"device"}));
    st.setArray(5, c.createArrayOf("uuid", new Object[] {scene.device().id()}));
    st.setArray(
        6, c.createArrayOf("uuid", new Object[] {UUID.fromString(scene.owner().accountId())}));
    st.setArray(7, c.createArrayOf("int8", new Object[] {1L}));
    st.setArray(8, c.createArrayOf("uuid", new Object[] {scene.agent().id()}));
    st.setArray(9, c.createArrayOf("uuid", new Object[] {id}));
    st.setArray(10, c.createArrayOf("text", new Object[] {eventId}));
    return st;
  }

  /** The conversations the session's current setting shows (none; an unset setting may fail). */
  private static long conversationsSeen(Connection c) {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM control_plane.conversations")) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      return 0;
    }
  }

  private long count(String query) throws SQLException {
    return h.pg.number(query);
  }
}
