package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A late attempt after an engine failover (docs/webtty.md "A late attempt"; the chaos suite's
 * engine kill), over real PostgreSQL and Redis with three instances: the session's home (instance
 * 0) dies, instance 1 takes it over, and the opener's client gets back in through it. A JOIN of an
 * attempt that client gave up on earlier (it waited, unanswered, in another instance's bus queue
 * while no instance homed the session) reaches the home only now, through instance 2. It carries an
 * older stamp than the connection that got in: it is refused and the live connection stays in
 * control. Before, it took the live connection's place, which got {@code ERROR replaced} and closed
 * the terminal right after its verified failover. A newer attempt still takes the place (an edge
 * that died without a goodbye, docs/webtty.md "An edge instance's death").
 */
class EngineFailoverLateAttemptTest {
  static Vertx vertx;
  static EngineHarness h;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 3, Map.of());
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void anOlderAttemptDeliveredLateDoesNotTakeTheLiveConnectionsPlace() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = ByteString.copyFrom(EngineHarness.bytes(16));
    Peer server0 = h.server(0, ws, machine, EngineHarness.recorded());
    Peer alice0 = h.client(0, ws, "alice", "member");
    String sid = h.open(server0, alice0, machine, aliceKey, List.of(aliceKey));
    h.drainRecordings(0);
    h.die(0);
    assertThat(alice0.awaitClosed()).isTrue();
    Peer server1 = h.server(1, ws, machine, EngineHarness.recorded());
    server1.send(
        FailoverFixture.resumeFrame(sid, FailoverFixture.resume(h, ws, machine, sid, 1, aliceKey)));
    server1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);

    // the client's attempt stamped 2000 gets in and resumes
    Peer live = h.client(1, ws, "alice", "member");
    live.send(FailoverFixture.attempt(sid, aliceKey, 2_000));
    assertThat(live.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    live.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);

    // the attempt stamped 1000, given up on, arrives now: refused, nobody replaced
    Peer late = h.client(2, ws, "alice", "member");
    late.send(FailoverFixture.attempt(sid, aliceKey, 1_000));
    assertThat(late.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("already_in_session");
    live.send(EdgeFailoverTest.stdin(h, sid, 1, "ls\n"));
    server1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA); // it still types
    assertThat(live.skipped)
        .noneMatch(
            f ->
                f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR
                    || f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE);
    late.close();

    // a newer attempt (its edge died without a goodbye) still takes the place, in control
    Peer newer = h.client(2, ws, "alice", "member");
    newer.send(FailoverFixture.attempt(sid, aliceKey, 3_000));
    assertThat(newer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertThat(live.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR).getReason())
        .isEqualTo("replaced");
    for (Peer p : List.of(server0, alice0, server1, live, newer)) {
      p.close();
    }
  }
}
