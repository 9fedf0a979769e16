package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The engine's side of a failover (docs/webtty.md "Engine failover"), over real PostgreSQL and
 * Redis with three instances: a session homed on instance 0 is taken over by instance 1 when its
 * server sends RESUME there; the participants come back with their roles and get the RESUMED
 * notice; the recording holds a GAP event. What the engine can check it refuses: a replayed resume
 * (its epoch is not newer than the stored one), one for a session homed here already, for another
 * server's session, an unknown or ended one, a document naming other ids, or not a document at all.
 */
class EngineFailoverTest {
  @RegisterExtension static final FailoverFixture fx = new FailoverFixture();

  @Test
  void anotherInstanceTakesALiveSessionOverOnceAndRefusesEveryOtherResume() throws Exception {
    int homed = fx.h.engines.get(1).hub().homedSessions(); // (the other tests' sessions)
    // instance 0 "dies" for this server: it reconnects to instance 1 and resumes there
    FailoverFixture.Opened o = fx.open(0, 0);
    FailoverFixture.Resumed r = fx.resumeAt(1, o);
    UUID ws = o.ws();
    String machine = o.machine();
    ByteString aliceKey = o.aliceKey();
    ByteString bobKey = o.bobKey();
    Peer server0 = o.server();
    Peer alice0 = o.alice();
    String sid = o.sid();
    Peer server1 = r.server();
    String doc = r.doc();
    WebTtyFrame resumed = r.resumed();
    assertThat(resumed.getSessionId()).isEqualTo(sid);
    assertThat(resumed.getSequence()).isGreaterThan(2);
    assertThat(fx.h.engines.get(1).hub().homedSessions()).isEqualTo(homed + 1);

    // the viewer comes back first: a viewer, and told what happened
    Peer bob1 = fx.h.client(1, ws, "bob", "member");
    bob1.send(FailoverFixture.join(sid, bobKey, false));
    assertThat(bob1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    WebTtyFrame notice = bob1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    assertThat(notice.getReason()).isEqualTo("engine_failover");
    assertThat(notice.getResume().getCanonicalJson().toStringUtf8()).isEqualTo(doc);
    // the opener, whose key the signed document names as controller, gets control back silently:
    // no CONTROL_CHANGED reaches the server (it kept that key's input key)
    Peer alice1 = fx.h.client(1, ws, "alice", "member");
    alice1.send(FailoverFixture.join(sid, aliceKey, true));
    assertThat(alice1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    alice1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    assertThat(server1.skipped)
        .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);

    // the recording marks the failover with the signed document
    fx.h.drainRecordings(1);
    List<RecordedEvent> events =
        fx.h
            .engines
            .get(1)
            .recordingStore()
            .events(ws, sid, 0, 100)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(events)
        .filteredOn(e -> e.getKind() == RecordedKind.RECORDED_KIND_GAP)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getSequence()).isEqualTo(resumed.getSequence());
              assertThat(e.getResume().getCanonicalJson().toStringUtf8()).isEqualTo(doc);
            });

    // homed here already
    assertThat(
            FailoverFixture.refusal(
                server1,
                FailoverFixture.resumeFrame(
                    sid, FailoverFixture.resume(fx.h, ws, machine, sid, 2, aliceKey))))
        .isEqualTo("resume_refused");
    // the same document again, elsewhere: its epoch is not newer than the stored one
    Peer server2 = fx.h.server(2, ws, machine, EngineHarness.recorded());
    assertThat(FailoverFixture.refusal(server2, FailoverFixture.resumeFrame(sid, doc)))
        .isEqualTo("resume_refused_replayed");
    // an unknown session, a document for other ids, not a document
    String other = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
    assertThat(
            FailoverFixture.refusal(
                server2,
                FailoverFixture.resumeFrame(
                    other, FailoverFixture.resume(fx.h, ws, machine, other, 1, null))))
        .isEqualTo("resume_refused");
    assertThat(
            FailoverFixture.refusal(
                server2,
                FailoverFixture.resumeFrame(
                    sid, FailoverFixture.resume(fx.h, ws, "m-other", sid, 5, null))))
        .isEqualTo("resume_refused");
    assertThat(
            FailoverFixture.refusal(
                server2,
                FailoverFixture.resumeFrame(
                    sid, FailoverFixture.resume(fx.h, UUID.randomUUID(), machine, sid, 5, null))))
        .isEqualTo("resume_refused");
    assertThat(FailoverFixture.refusal(server2, FailoverFixture.resumeFrame(sid, "not json")))
        .isEqualTo("resume_refused");
    assertThat(
            FailoverFixture.refusal(
                server2,
                FailoverFixture.resumeFrame(
                    sid, FailoverFixture.resume(fx.h, ws, machine, sid, 0, null))))
        .isEqualTo("resume_refused");
    // another machine cannot take this server's session over, whatever its document says
    String intruder = "m-" + UUID.randomUUID();
    Peer other2 = fx.h.server(2, ws, intruder, EngineHarness.recorded());
    assertThat(
            FailoverFixture.refusal(
                other2,
                FailoverFixture.resumeFrame(
                    sid, FailoverFixture.resume(fx.h, ws, intruder, sid, 9, null))))
        .isEqualTo("resume_refused");
    // a RESUME without its signed document is malformed: the connection closes
    other2.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUME)
            .setSessionId(sid)
            .setResume(SignedMessage.getDefaultInstance())
            .build());
    assertThat(other2.awaitClosed()).isTrue();
    for (Peer p : List.of(server0, alice0, server1, bob1, alice1, server2, other2)) {
      p.close();
    }
  }
}
