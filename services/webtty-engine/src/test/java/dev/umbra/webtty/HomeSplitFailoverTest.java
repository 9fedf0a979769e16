package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.bus.BusNames;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.Delivery;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A home's death while the participants' edge lives (docs/webtty.md, "A home's death"), over real
 * PostgreSQL and Redis with three instances: alice (controller) and bob (viewer) are connected
 * through instance 0, the session is homed on instance 1 (its server's), which dies; the daemon
 * resumes on instance 2. The new home announces the takeover, so their living edge closes their
 * connections with {@code home_moved} instead of leaving them on a socket to a dead home (also when
 * the new home answers a keystroke sent meanwhile before the notice arrives); they re-join through
 * the same edge, get their roles back and the signed document, and typing and output go on under
 * the same keys, with no control change at the server.
 */
class HomeSplitFailoverTest {
  @RegisterExtension static final FailoverFixture fx = new FailoverFixture();

  @Test
  void participantsOnALivingEdgeOfADeadHomeAreMovedToTheNewHomeAndTheSessionGoesOn()
      throws Exception {
    FailoverFixture.Opened o = fx.open(1, 0);
    String sid = o.sid();
    Peer alice = o.alice();
    Peer bob = fx.h.client(0, o.ws(), "bob", "member");
    bob.send(FailoverFixture.join(sid, o.bobKey(), false));
    assertThat(bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    alice.send(EdgeFailoverTest.stdin(fx.h, sid, 1, "ls\n"));
    o.server().await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);

    // the home dies; its participants' edge lives, and their sockets to it stay open
    fx.kill(1);
    assertThat(o.server().awaitClosed()).isTrue();
    assertThat(alice.closed).as("a living edge does not close by itself").isFalse();
    // typed meanwhile: it waits in the edge's bus queue and reaches the new home first, which does
    // not know this connection (its answer must move her too, not end her client)
    alice.send(EdgeFailoverTest.stdin(fx.h, sid, 2, "typed while away\n"));
    // the daemon resumes on instance 2, which tells every edge: the edge moves them
    long resumedAt = System.nanoTime();
    FailoverFixture.Resumed r = fx.resumeAt(2, o);
    assertThat(alice.awaitClosed()).isTrue();
    assertThat(bob.awaitClosed()).isTrue();
    assertThat(alice.closeReason).isEqualTo("home_moved");
    assertThat(bob.closeReason).isEqualTo("home_moved");
    assertThat(alice.inbox).noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR);

    // both re-join through the same edge (their failover path): same roles, the signed document
    Peer bob2 = fx.h.client(0, o.ws(), "bob", "member");
    bob2.send(FailoverFixture.rejoin(sid, o.bobKey(), false, 2));
    assertThat(bob2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    assertResumed(bob2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED), r.doc());
    Peer alice2 = fx.h.client(0, o.ws(), "alice", "member");
    alice2.send(FailoverFixture.rejoin(sid, o.aliceKey(), true, 2));
    assertThat(alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertResumed(alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED), r.doc());
    assertThat(System.nanoTime() - resumedAt)
        .as("back within 5 s of the takeover")
        .isLessThan(5_000_000_000L);

    // she types on under the same input key: no control change reached the server
    Peer server2 = r.server();
    alice2.send(EdgeFailoverTest.stdin(fx.h, sid, 3, "pwd\n"));
    WebTtyFrame typed = server2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
    assertThat(fx.h.open("stdin", typed.getSealed())).isEqualTo(EdgeFailoverTest.bytes("pwd\n"));
    assertThat(server2.skipped)
        .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
    // and both see the new home's output
    server2.send(
        fx.h.data(
            sid,
            TtyStream.TTY_STREAM_STDOUT,
            0,
            fx.h.seal("stdout", EdgeFailoverTest.bytes("/home/alice\n"))));
    for (Peer p : List.of(alice2, bob2)) {
      assertThat(fx.h.open("stdout", p.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed()))
          .isEqualTo(EdgeFailoverTest.bytes("/home/alice\n"));
    }
    // the viewer still cannot type
    bob2.send(EdgeFailoverTest.stdin(fx.h, sid, 1, "rm -rf /"));
    assertThat(bob2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("not_controller");
    for (Peer p : List.of(o.server(), alice, bob, server2, alice2, bob2)) {
      p.close();
    }
  }

  /**
   * The takeover notice's race: the new home answers a frame the connection sent to the old one
   * (ERROR {@code not_participant}) before the notice reaches the edge. A delivery from another
   * home than the connection's own moves it ({@code home_moved}) rather than ending its client.
   */
  @Test
  void aDeliveryFromAnotherHomeMovesTheConnectionInsteadOfEndingIt() throws Exception {
    FailoverFixture.Opened o = fx.open(1, 0);
    Peer bob = fx.h.client(0, o.ws(), "bob", "member");
    bob.send(FailoverFixture.join(o.sid(), o.bobKey(), false));
    String bobId = bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getParticipantId();
    WebTtyBusMessage fromAnotherHome =
        WebTtyBusMessage.newBuilder()
            .setOrigin("another-home")
            .setDirection(BusDirection.BUS_DIRECTION_TO_PARTICIPANTS)
            .addDeliveries(
                Delivery.newBuilder()
                    .addTo(bobId)
                    .setFrame(
                        WebTtyFrame.newBuilder()
                            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR)
                            .setSessionId(o.sid())
                            .setReason("not_participant")))
            .build();
    fx.h
        .buses
        .get(2)
        .publish(
            BusNames.webttyInstance(fx.h.engines.get(0).hub().instanceId()),
            Buffer.buffer(fromAnotherHome.toByteArray()))
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
    assertThat(bob.awaitClosed()).isTrue();
    assertThat(bob.closeReason).isEqualTo("home_moved");
    assertThat(bob.inbox).noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR);
    // her own home's frames still reach the opener on the same edge
    assertThat(o.alice().closed).isFalse();
    for (Peer p : List.of(o.server(), o.alice(), bob)) {
      p.close();
    }
  }

  private static void assertResumed(WebTtyFrame notice, String doc) {
    assertThat(notice.getReason()).isEqualTo("engine_failover");
    assertThat(notice.getResume().getCanonicalJson().toStringUtf8()).isEqualTo(doc);
  }
}
