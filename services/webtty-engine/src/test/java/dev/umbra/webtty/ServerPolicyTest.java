package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine enforces the server policy the daemon registered (docs/webtty.md, "Server policy"),
 * over real PostgreSQL and Redis: recording off stores no event, record_stdin off stores no stdin,
 * join {@code nobody} refuses everyone but the opener, join {@code admins} refuses a member and
 * admits an admin, and a second REGISTER on the same connection changes the policy of new sessions.
 */
class ServerPolicyTest {
  static Vertx vertx;
  static EngineHarness h;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 1, Map.of());
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static ByteString key() {
    return ByteString.copyFrom(EngineHarness.bytes(16));
  }

  static ServerPolicy policy(boolean recording, JoinPolicy join, boolean recordStdin) {
    return ServerPolicy.newBuilder()
        .setRecording(recording)
        .setJoin(join)
        .setRecordStdin(recordStdin)
        .build();
  }

  /**
   * Rows of webtty.events for a session, by stream ("data:stdin", "data:stdout", "exit", ...),
   * after the writer drained.
   */
  static List<String> events(String sid) throws Exception {
    h.drainRecordings(0);
    List<String> out = new ArrayList<>();
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT * FROM webtty.events WHERE session_id = '" + sid + "' ORDER BY sequence")) {
      while (rs.next()) {
        out.add(rs.getString("kind") + ":" + rs.getString("stream"));
      }
    }
    return out;
  }

  /** One stdin from the owner, one stdout from the server, then exit 0. */
  static void typeAndExit(Peer server, Peer owner, String sid) throws Exception {
    owner.send(h.data(sid, TtyStream.TTY_STREAM_STDIN, 1, h.seal("stdin", "secret\n".getBytes())));
    server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
    server.send(h.data(sid, TtyStream.TTY_STREAM_STDOUT, 0, h.seal("stdout", "ok\n".getBytes())));
    owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
    server.send(h.exit(sid, 0));
    owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT);
  }

  /** The reason the engine gave a refused JOIN (whichever of ERROR or REFUSED it answers with). */
  static String refusalOfJoin(Peer joiner, String sid, ByteString key) throws Exception {
    joiner.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
            .setSessionId(sid)
            .setKeyId(key)
            .build());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      WebTtyFrame f = joiner.inbox.poll(50, TimeUnit.MILLISECONDS);
      if (f == null) {
        continue;
      }
      switch (f.getType()) {
        case WEBTTY_FRAME_TYPE_ERROR, WEBTTY_FRAME_TYPE_REFUSED -> {
          return f.getReason();
        }
        case WEBTTY_FRAME_TYPE_JOINED -> {
          return null;
        }
        default -> {}
      }
    }
    throw new AssertionError("no answer to JOIN within 10 s");
  }

  @Test
  void recordingOffStoresNoEventRowsForTheSession() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    try (Peer server =
            h.server(0, ws, machine, policy(false, JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS, true));
        Peer owner = h.client(0, ws, "alice", "member")) {
      String sid = h.open(server, owner, machine, k, List.of(key(), k));
      typeAndExit(server, owner, sid);
      assertThat(events(sid)).isEmpty();
    }
    // the same flow with recording on stores every event: the emptiness above is the policy's doing
    String machine2 = "m-" + UUID.randomUUID();
    try (Peer server =
            h.server(0, ws, machine2, policy(true, JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS, true));
        Peer owner = h.client(0, ws, "alice", "member")) {
      String sid = h.open(server, owner, machine2, k, List.of(key(), k));
      typeAndExit(server, owner, sid);
      assertThat(events(sid)).hasSize(3);
    }
  }

  @Test
  void recordStdinOffStoresOutputButNoStdin() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    try (Peer server =
            h.server(0, ws, machine, policy(true, JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS, false));
        Peer owner = h.client(0, ws, "alice", "member")) {
      String sid = h.open(server, owner, machine, k, List.of(key(), k));
      typeAndExit(server, owner, sid);
      // kind:stream as stored (smallints of the proto enums): no stdin row, the stdout and the exit
      // are there
      assertThat(events(sid))
          .containsExactly(
              RecordedKind.RECORDED_KIND_DATA_VALUE + ":" + TtyStream.TTY_STREAM_STDOUT_VALUE,
              RecordedKind.RECORDED_KIND_EXIT_VALUE + ":null");
    }
  }

  @Test
  void aPolicyWithoutRecordStdinKeepsRecordingStdinAsBefore() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    ServerPolicy older =
        ServerPolicy.newBuilder()
            .setRecording(true)
            .setJoin(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS)
            .build();
    try (Peer server = h.server(0, ws, machine, older);
        Peer owner = h.client(0, ws, "alice", "member")) {
      String sid = h.open(server, owner, machine, k, List.of(key(), k));
      typeAndExit(server, owner, sid);
      assertThat(events(sid))
          .startsWith(
              RecordedKind.RECORDED_KIND_DATA_VALUE + ":" + TtyStream.TTY_STREAM_STDIN_VALUE)
          .hasSize(3);
    }
  }

  @Test
  void joinNobodyRefusesEveryJoinerEvenAnOwnerOfTheWorkspace() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = key();
    ByteString bobKey = key();
    ByteString carolKey = key();
    try (Peer server = h.server(0, ws, machine, policy(true, JoinPolicy.JOIN_POLICY_NOBODY, true));
        Peer owner = h.client(0, ws, "alice", "member");
        Peer member = h.client(0, ws, "bob", "member");
        Peer workspaceOwner = h.client(0, ws, "carol", "owner")) {
      String sid =
          h.open(server, owner, machine, aliceKey, List.of(key(), aliceKey, bobKey, carolKey));
      assertThat(refusalOfJoin(member, sid, bobKey)).isEqualTo("policy");
      assertThat(refusalOfJoin(workspaceOwner, sid, carolKey)).isEqualTo("policy");
    }
  }

  @Test
  void joinAdminsRefusesAMemberAndAdmitsAnAdmin() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = key();
    ByteString bobKey = key();
    ByteString daveKey = key();
    try (Peer server =
            h.server(0, ws, machine, policy(true, JoinPolicy.JOIN_POLICY_GRANTED_ADMINS, true));
        Peer owner = h.client(0, ws, "alice", "member");
        Peer member = h.client(0, ws, "bob", "member");
        Peer admin = h.client(0, ws, "dave", "admin")) {
      String sid =
          h.open(server, owner, machine, aliceKey, List.of(key(), aliceKey, bobKey, daveKey));
      assertThat(refusalOfJoin(member, sid, bobKey)).isEqualTo("policy");
      assertThat(refusalOfJoin(admin, sid, daveKey)).isNull();
      owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_JOINED);
    }
  }

  @Test
  void aSecondRegisterOnTheSameConnectionChangesThePolicyOfNewSessionsOnly() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = key();
    ByteString bobKey = key();
    try (Peer server =
            h.server(0, ws, machine, policy(true, JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS, true));
        Peer owner = h.client(0, ws, "alice", "member");
        Peer member = h.client(0, ws, "bob", "member");
        Peer member2 = h.client(0, ws, "bob", "member")) {
      String before = h.open(server, owner, machine, aliceKey, List.of(key(), aliceKey, bobKey));
      server.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER)
              .setServerId(machine)
              .setPolicy(policy(true, JoinPolicy.JOIN_POLICY_NOBODY, true))
              .build());
      WebTtyFrame registered = server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTERED);
      assertThat(registered.getPolicy().getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_NOBODY);
      assertThat(server.closed).isFalse();
      // the live session keeps the policy it was opened under; a new one gets the new policy
      assertThat(refusalOfJoin(member, before, bobKey)).isNull();
      try (Peer owner2 = h.client(0, ws, "alice", "member")) {
        String after = h.open(server, owner2, machine, aliceKey, List.of(key(), aliceKey, bobKey));
        assertThat(refusalOfJoin(member2, after, bobKey)).isEqualTo("policy");
      }
      // a REGISTER naming another server on the same connection is refused
      server.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER)
              .setServerId("m-other")
              .setPolicy(policy(true, JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS, true))
              .build());
      assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR).getReason())
          .isEqualTo("unexpected");
      assertThat(server.awaitClosed()).isTrue();
    }
  }
}
