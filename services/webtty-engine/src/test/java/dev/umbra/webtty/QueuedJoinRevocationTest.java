package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.revocation.Revoked;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.bus.RevokedKind;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A JOIN that waits in an edge's bus queue while no instance homes the session (docs/webtty.md, "A
 * home's death") is not delivered once its sender is revoked meanwhile, over real PostgreSQL and
 * Redis with three instances: the session homed on 1, alice and bob connected through 0. The home
 * dies; bob's JOIN waits at edge 0 (nobody listens on the session's channel); bob is revoked; the
 * daemon resumes the session on 2. Bob must not become a participant at the new home (whose own
 * revocation listener ran before it homed the session, so only the edge can stop the JOIN).
 */
class QueuedJoinRevocationTest {
  @RegisterExtension static final FailoverFixture fx = new FailoverFixture();

  @Test
  void aJoinQueuedDuringTheFailoverIsWithdrawnWhenItsSenderIsRevoked() throws Exception {
    FailoverFixture.Opened o = fx.open(1, 0);
    String sid = o.sid();
    Peer bob = fx.h.client(0, o.ws(), "bob", "member");
    fx.kill(1);
    assertThat(o.server().awaitClosed()).isTrue();
    bob.send(FailoverFixture.join(sid, o.bobKey(), false)); // queued: nobody homes the session
    fx.h.publishRevocation(
        0,
        Revoked.message(
            RevokedKind.REVOKED_KIND_MEMBER, o.ws(), "member-id", "bob", Instant.now()));
    assertThat(bob.awaitClosed()).isTrue();
    assertThat(bob.closeReason).isEqualTo("revoked");
    Eventually.await(
        "bob's queued JOIN withdrawn at his edge",
        Duration.ofSeconds(10),
        () -> queuedDropped() >= 1);
    assertThat(queuedDropped()).isEqualTo(1);

    FailoverFixture.Resumed r = fx.resumeAt(2, o);
    assertThat(o.alice().awaitClosed()).isTrue(); // moved by the takeover notice
    Peer alice2 = fx.h.client(0, o.ws(), "alice", "member");
    alice2.send(FailoverFixture.rejoin(sid, o.aliceKey(), true, 1));
    assertThat(alice2.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    // before the fix the JOIN reached the new home about a second after the resume (its retry)
    Eventually.holdsThroughout(
        "bob is not a participant at the new home",
        Duration.ofSeconds(3),
        () -> !participants(sid).contains("bob"));
    for (Peer p : List.of(o.server(), o.alice(), bob, r.server(), alice2)) {
      p.close();
    }
  }

  private static double queuedDropped() {
    return fx.h.engines.get(0).metrics().count("frames_dropped", "reason", "revoked_queued");
  }

  private static List<String> participants(String sid) {
    return fx.h.engines.get(2).hub().participantSubjects(sid);
  }
}
