package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An edge instance's death (docs/webtty.md): over real PostgreSQL and Redis with three instances,
 * the session is homed on instance 0 (the server's), its controller's connection goes through
 * instance 1, which dies without a goodbye (its bus closes first, then it stops). The controller
 * comes back through instance 2 and takes its own stale entry's place: controller again without a
 * control change, {@code RESUMED edge_failover} with the last stdin frame the home took, and typing
 * goes on. Another member cannot take the stale slot, not with the controller's key id either.
 */
class EdgeFailoverTest {
  static Vertx vertx;
  static EngineHarness h;
  static final List<byte[]> busTraffic = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 3, Map.of());
    // what edges send the home across Redis (stdin among it), for the canary scan; not the
    // instances' channels: a listener there would answer for the dead instance
    h.buses
        .get(0)
        .subscribePattern("umbra.webtty.sess.*", m -> busTraffic.add(m.body().getBytes()))
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void theControllerOfADeadEdgeComesBackThroughAnotherInstanceInControlAndNobodyElseCanTakeIt()
      throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = ByteString.copyFrom(EngineHarness.bytes(16));
    ByteString bobKey = ByteString.copyFrom(EngineHarness.bytes(16));
    Peer server = h.server(0, ws, machine, EngineHarness.recorded());
    Peer alice1 = h.client(1, ws, "alice", "member");
    String sid = h.open(server, alice1, machine, aliceKey, List.of(aliceKey, bobKey));
    alice1.send(stdin(sid, 1, "ls"));
    alice1.send(stdin(sid, 2, "\n"));
    server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
    assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed())
        .isNotNull(); // both keystrokes reached the server

    // instance 1 dies: cut off the bus first, so no goodbye for alice can reach the home
    h.die(1);
    assertThat(alice1.awaitClosed()).isTrue();

    // bob, another member, tries the stale slot through instance 2 with alice's (public) key id
    Peer bob = h.client(2, ws, "bob", "member");
    bob.send(FailoverFixture.join(sid, aliceKey, true));
    assertThat(bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("not_owner");
    bob.send(FailoverFixture.join(sid, aliceKey, false));
    WebTtyFrame bobJoined = bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED);
    assertThat(bobJoined.getRole()).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    bob.send(stdin(sid, 1, "rm -rf /"));
    assertThat(bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("not_controller");

    // alice fails over through instance 2: the same member, key and session
    Peer alice2 = h.client(2, ws, "alice", "member");
    alice2.send(FailoverFixture.join(sid, aliceKey, true));
    WebTtyFrame joined = alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED);
    assertThat(joined.getRole()).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertThat(joined.getParticipantsList())
        .extracting(p -> p.getParticipantId())
        .containsExactlyInAnyOrder(joined.getParticipantId(), bobJoined.getParticipantId());
    WebTtyFrame notice = alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    assertThat(notice.getReason()).isEqualTo("edge_failover");
    assertThat(notice.getSequence()).as("the last stdin frame the home took").isEqualTo(2);
    assertThat(notice.hasResume()).isFalse();
    // the others see the stale entry replaced
    WebTtyFrame left = bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT);
    assertThat(left.getReason()).isEqualTo("replaced");
    assertThat(left.getParticipantId()).isNotEqualTo(joined.getParticipantId());

    // typing goes on under the same input key, with no control change at the server
    String canary = "CANARY-" + UUID.randomUUID();
    alice2.send(stdin(sid, 3, canary));
    WebTtyFrame typed = server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
    assertThat(h.open("stdin", typed.getSealed())).isEqualTo(bytes(canary));
    assertThat(server.skipped)
        .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
    // and output reaches her through the new instance
    server.send(
        h.data(sid, TtyStream.TTY_STREAM_STDOUT, 0, h.seal("stdout", bytes("/home/alice\n"))));
    assertThat(h.open("stdout", alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed()))
        .isEqualTo(bytes("/home/alice\n"));

    // bob still cannot type, and cannot take control: only the opener may
    bob.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_TAKE)
            .setSessionId(sid)
            .build());
    assertThat(bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("not_owner");
    // the keystrokes typed through the new instance: nowhere in PostgreSQL, Redis or the logs
    h.drainRecordings(0);
    WebTtyEngineTest.assertNoCanary(h, busTraffic, bytes(canary));
    for (Peer p : List.of(server, alice1, bob, alice2)) {
      p.close();
    }
  }

  static WebTtyFrame stdin(String sid, long seq, String keys) throws Exception {
    return stdin(h, sid, seq, keys);
  }

  static WebTtyFrame stdin(EngineHarness h, String sid, long seq, String keys) throws Exception {
    return h.data(sid, TtyStream.TTY_STREAM_STDIN, seq, h.seal("stdin", bytes(keys)));
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
