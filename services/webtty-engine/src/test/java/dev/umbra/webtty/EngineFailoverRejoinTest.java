package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.WebTtyFrame;
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
 * Back at the same new home after an engine failover (docs/webtty.md "Engine failover", the chaos
 * suite's double RESUMED), over real PostgreSQL and Redis with three instances: the session's home
 * (instance 0) dies, instance 1 takes it over, the opener re-joins there and gets the signed
 * document; its link drops and its goodbye reaches the home first, so its next re-join (through
 * instance 2) is a fresh join. It gets the byte-identical document again, which its client takes as
 * the same home (not a replay), with the last stdin frame the home took under its key; its control
 * waited for its key, so it types on without a control change at the server.
 */
class EngineFailoverRejoinTest {
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
  void aParticipantBackAtTheNewHomeASecondTimeGetsTheSameDocumentAndTheLastStdinItTook()
      throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = ByteString.copyFrom(EngineHarness.bytes(16));
    ByteString bobKey = ByteString.copyFrom(EngineHarness.bytes(16));
    Peer server0 = h.server(0, ws, machine, EngineHarness.recorded());
    Peer alice0 = h.client(0, ws, "alice", "member");
    String sid = h.open(server0, alice0, machine, aliceKey, List.of(aliceKey, bobKey));
    h.drainRecordings(0);
    // the home dies: off the bus first, then stopped
    h.die(0);
    assertThat(alice0.awaitClosed()).isTrue();
    Peer server1 = h.server(1, ws, machine, EngineHarness.recorded());
    String doc = EngineFailoverTest.resume(h, ws, machine, sid, 1, aliceKey);
    server1.send(EngineFailoverTest.resumeFrame(sid, doc));
    server1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    Peer bob1 = h.client(1, ws, "bob", "member");
    bob1.send(EngineFailoverTest.join(sid, bobKey, false));
    bob1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED);

    // alice's first re-join (a failing-over client names the last output it saw): the document
    Peer alice1 = h.client(1, ws, "alice", "member");
    alice1.send(EngineFailoverTest.rejoin(sid, aliceKey, true, 4));
    assertThat(alice1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    WebTtyFrame first = alice1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    assertThat(first.getReason()).isEqualTo("engine_failover");
    assertThat(first.getResume().getCanonicalJson().toStringUtf8()).isEqualTo(doc);
    assertThat(first.getSequence()).as("nothing taken under her key yet").isZero();
    alice1.send(EdgeFailoverTest.stdin(h, sid, 7, "ls\n"));
    server1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);

    // her link drops and the goodbye reaches the home before she is back (through instance 2)
    alice1.close();
    assertThat(bob1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT).getReason())
        .isEqualTo("disconnected");
    Peer alice2 = h.client(2, ws, "alice", "member");
    alice2.send(EngineFailoverTest.rejoin(sid, aliceKey, true, 4));
    // her control waited for her key: controller again
    assertThat(alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    // before the fix: the same document, which her client refused as a replay and closed; now
    // byte for byte the same (her client's "same home again") and what the home took from her
    WebTtyFrame again = alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    assertThat(again.getReason()).isEqualTo("engine_failover");
    assertThat(again.getResume()).as("byte for byte").isEqualTo(first.getResume());
    assertThat(again.getSequence()).as("the last stdin frame the home took").isEqualTo(7);
    // she types on under the same input key: no control change reached the server
    alice2.send(EdgeFailoverTest.stdin(h, sid, 8, "pwd\n"));
    server1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
    assertThat(server1.skipped)
        .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
    for (Peer p : List.of(server0, alice0, server1, bob1, alice1, alice2)) {
      p.close();
    }
  }
}
