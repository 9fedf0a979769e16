package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A failover re-join's stamp is the client's own clock, so nothing bounds it (docs/webtty.md "A
 * late attempt"). A connection of the same member with the key's id and public key (both public;
 * possession of the private half is not something the engine can check) that re-joins stamped far
 * in the future takes the participant's place, as any newer re-join does. Before, it then kept the
 * real client's every later failover re-join out ({@code already_in_session}) for as long as the
 * session lived. Now a stamp is compared only while an older attempt could still arrive late (the
 * longest a JOIN waits in an edge's bus queue, with room: {@code Session.LATE_ATTEMPT_MS}, 60 s of
 * the home's clock); after that the real client's re-join takes its place back.
 */
class RejoinStampBoundTest {
  static Vertx vertx;
  static final AheadClock clock = new AheadClock();

  /**
   * The real time, moved ahead by what the test skips (a frozen clock would fall behind the tokens
   * and the bus while the instances start on a loaded machine).
   */
  static final class AheadClock extends Clock {
    private volatile Duration ahead = Duration.ZERO;

    void advance(Duration d) {
      ahead = ahead.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.now().plus(ahead);
    }
  }

  static EngineHarness h;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 2, Map.of(), clock);
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aFarFutureStampKeepsTheRealClientOutOnlyWhileALateAttemptCouldStillArrive()
      throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = ByteString.copyFrom(EngineHarness.bytes(16));
    Peer server = h.server(0, ws, machine, EngineHarness.recorded());
    Peer alice = h.client(0, ws, "alice", "member");
    String sid = h.open(server, alice, machine, aliceKey, List.of(aliceKey));

    // the same member's other connection, stamped at the end of time, takes alice's place
    Peer pinned = h.client(1, ws, "alice", "member");
    pinned.send(FailoverFixture.attempt(sid, aliceKey, Long.MAX_VALUE));
    assertThat(pinned.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertThat(alice.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR).getReason())
        .isEqualTo("replaced");

    // the real client's failover re-join right after: refused, as a late attempt would be
    Peer back = h.client(0, ws, "alice", "member");
    long now = clock.millis();
    back.send(FailoverFixture.attempt(sid, aliceKey, now));
    assertThat(back.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
        .isEqualTo("already_in_session");
    back.close();

    // once no late attempt can be on its way, the stamp is not compared: the real client is back
    clock.advance(Duration.ofSeconds(61));
    Peer again = h.client(0, ws, "alice", "member");
    again.send(FailoverFixture.attempt(sid, aliceKey, now + 61_000));
    assertThat(again.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertThat(pinned.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR).getReason())
        .isEqualTo("replaced");
    for (Peer p : List.of(server, alice, pinned, again)) {
      p.close();
    }
  }
}
