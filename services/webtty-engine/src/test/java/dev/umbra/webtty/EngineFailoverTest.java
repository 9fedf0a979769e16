package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's side of a failover (docs/webtty.md "Engine failover"), over real PostgreSQL and
 * Redis with three instances: a session homed on instance 0 is taken over by instance 1 when its
 * server sends RESUME there; the participants come back with their roles and get the RESUMED
 * notice; the recording holds a GAP event. What the engine can check it refuses: a replayed resume
 * (its epoch is not newer than the stored one), one for a session homed here already, for another
 * server's session, an unknown or ended one, a document naming other ids, or not a document at all.
 */
class EngineFailoverTest {
  static Vertx vertx;
  static EngineHarness h;
  static final HexFormat HEX = HexFormat.of();

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

  static String resume(UUID ws, String machine, String sid, long epoch, ByteString controller) {
    return resume(h, ws, machine, sid, epoch, controller);
  }

  /** A resume document for the keys of harness {@code h}. */
  static String resume(
      EngineHarness h, UUID ws, String machine, String sid, long epoch, ByteString controller) {
    return "{"
        + (controller == null ? "" : "\"controller_key_id\":\"" + hex(controller) + "\",")
        + "\"epoch\":"
        + epoch
        + ",\"input_counter\":3,"
        + (controller == null ? "" : "\"input_key_id\":\"" + hex(h.inputKeyId) + "\",")
        + "\"output_counter\":7,\"output_epoch\":0,\"output_key_id\":\""
        + hex(h.payloadKeyId)
        + "\",\"server_id\":\""
        + machine
        + "\",\"session_id\":\""
        + sid
        + "\",\"time_ms\":1,\"type\":\"umbra-webtty-resume/v1\",\"workspace_id\":\""
        + ws
        + "\"}";
  }

  static String hex(ByteString b) {
    return HEX.formatHex(b.toByteArray());
  }

  static WebTtyFrame resumeFrame(String sid, String json) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUME)
        .setSessionId(sid)
        .setSequence(2)
        .setResume(EngineHarness.signed(json))
        .build();
  }

  static String refusal(Peer server, WebTtyFrame resume) throws Exception {
    server.send(resume);
    return server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason();
  }

  /** A session opened by alice through instance 0 (bob granted too) and taken over by 1. */
  record Taken(
      UUID ws,
      String machine,
      ByteString aliceKey,
      ByteString bobKey,
      Peer server0,
      Peer alice0,
      String sid,
      Peer server1,
      String doc,
      WebTtyFrame resumed) {}

  static Taken takenOver() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString aliceKey = ByteString.copyFrom(EngineHarness.bytes(16));
    ByteString bobKey = ByteString.copyFrom(EngineHarness.bytes(16));
    Peer server0 = h.server(0, ws, machine, EngineHarness.recorded());
    Peer alice0 = h.client(0, ws, "alice", "member");
    String sid = h.open(server0, alice0, machine, aliceKey, List.of(aliceKey, bobKey));
    h.drainRecordings(0);
    // instance 0 "dies" for this server: it reconnects to instance 1 and resumes there
    Peer server1 = h.server(1, ws, machine, EngineHarness.recorded());
    String doc = resume(ws, machine, sid, 1, aliceKey);
    server1.send(resumeFrame(sid, doc));
    WebTtyFrame resumed = server1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    return new Taken(ws, machine, aliceKey, bobKey, server0, alice0, sid, server1, doc, resumed);
  }

  @Test
  void anotherInstanceTakesALiveSessionOverOnceAndRefusesEveryOtherResume() throws Exception {
    int homed = h.engines.get(1).hub().homedSessions(); // (the other tests' sessions)
    Taken t = takenOver();
    UUID ws = t.ws();
    String machine = t.machine();
    ByteString aliceKey = t.aliceKey();
    ByteString bobKey = t.bobKey();
    Peer server0 = t.server0();
    Peer alice0 = t.alice0();
    String sid = t.sid();
    Peer server1 = t.server1();
    String doc = t.doc();
    WebTtyFrame resumed = t.resumed();
    assertThat(resumed.getSessionId()).isEqualTo(sid);
    assertThat(resumed.getSequence()).isGreaterThan(2);
    assertThat(h.engines.get(1).hub().homedSessions()).isEqualTo(homed + 1);

    // the viewer comes back first: a viewer, and told what happened
    Peer bob1 = h.client(1, ws, "bob", "member");
    bob1.send(join(sid, bobKey, false));
    assertThat(bob1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    WebTtyFrame notice = bob1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    assertThat(notice.getReason()).isEqualTo("engine_failover");
    assertThat(notice.getResume().getCanonicalJson().toStringUtf8()).isEqualTo(doc);
    // the opener, whose key the signed document names as controller, gets control back silently:
    // no CONTROL_CHANGED reaches the server (it kept that key's input key)
    Peer alice1 = h.client(1, ws, "alice", "member");
    alice1.send(join(sid, aliceKey, true));
    assertThat(alice1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    alice1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    assertThat(server1.skipped)
        .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);

    // the recording marks the failover with the signed document
    h.drainRecordings(1);
    List<RecordedEvent> events =
        h.engines
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
    assertThat(refusal(server1, resumeFrame(sid, resume(ws, machine, sid, 2, aliceKey))))
        .isEqualTo("resume_refused");
    // the same document again, elsewhere: its epoch is not newer than the stored one
    Peer server2 = h.server(2, ws, machine, EngineHarness.recorded());
    assertThat(refusal(server2, resumeFrame(sid, doc))).isEqualTo("resume_refused_replayed");
    // an unknown session, a document for other ids, not a document
    String other = "01JZZZZZZZZZZZZZZZZZZZZZZZ";
    assertThat(refusal(server2, resumeFrame(other, resume(ws, machine, other, 1, null))))
        .isEqualTo("resume_refused");
    assertThat(refusal(server2, resumeFrame(sid, resume(ws, "m-other", sid, 5, null))))
        .isEqualTo("resume_refused");
    assertThat(refusal(server2, resumeFrame(sid, resume(UUID.randomUUID(), machine, sid, 5, null))))
        .isEqualTo("resume_refused");
    assertThat(refusal(server2, resumeFrame(sid, "not json"))).isEqualTo("resume_refused");
    assertThat(refusal(server2, resumeFrame(sid, resume(ws, machine, sid, 0, null))))
        .isEqualTo("resume_refused");
    // another machine cannot take this server's session over, whatever its document says
    String intruder = "m-" + UUID.randomUUID();
    Peer other2 = h.server(2, ws, intruder, EngineHarness.recorded());
    assertThat(refusal(other2, resumeFrame(sid, resume(ws, intruder, sid, 9, null))))
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

  /** A failing-over client's re-join: JOIN or ATTACH naming the last output it saw. */
  static WebTtyFrame rejoin(String sid, ByteString key, boolean attach, long seen) {
    return join(sid, key, attach).toBuilder().setSequence(seen).build();
  }

  static WebTtyFrame join(String sid, ByteString key, boolean attach) {
    return WebTtyFrame.newBuilder()
        .setType(
            attach
                ? WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH
                : WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
        .setSessionId(sid)
        .setKeyId(key)
        .build();
  }
}
