package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.kit.log.LogRing;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.kit.testing.Futures;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.Sealed;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine over real PostgreSQL and Redis, two instances, raw frames (docs/webtty.md). */
class WebTtyEngineTest {
  static Vertx vertx;
  static EngineHarness h;
  static final List<byte[]> busTraffic = new CopyOnWriteArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 2, Map.of("UMBRA_WEBTTY_DETACH_SECONDS", "2"));
    // a plain subscriber records every WebTTY message that can carry payloads across Redis, for
    // the canary scan (server channels carry only OPEN; a pattern subscriber there would count as
    // a listener and hide "server offline")
    for (String pattern : List.of("umbra.webtty.inst.*", "umbra.webtty.sess.*")) {
      h.buses
          .get(0)
          .subscribePattern(pattern, m -> busTraffic.add(m.body().getBytes()))
          .toCompletionStage()
          .toCompletableFuture()
          .get(5, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static ByteString key() {
    return ByteString.copyFrom(EngineHarness.bytes(16));
  }

  @Test
  void serverOnOneInstanceViewerOnTheOtherSeeTheSameBytesAndControlMovesOnlyWhenGiven()
      throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    String alice = "alice-" + UUID.randomUUID();
    String bob = "bob-" + UUID.randomUUID();
    ByteString aliceKey = key();
    ByteString bobKey = key();
    byte[] canary = ("CANARY-" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    try (Peer server = h.server(0, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(0, ws, alice, "member");
        Peer viewer = h.client(1, ws, bob, "member")) {
      String sid = h.open(server, owner, machine, aliceKey, List.of(key(), aliceKey, bobKey));

      viewer.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
              .setSessionId(sid)
              .setKeyId(bobKey)
              .build());
      WebTtyFrame joined = viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED);
      assertThat(joined.getRole()).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
      assertThat(joined.getGrantsCount())
          .isEqualTo(4); // three output grants, the opener's input grant
      owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_JOINED);

      // stdout from the server reaches both, identical, with the same engine sequence
      Sealed out = h.seal("stdout", canary);
      server.send(h.data(sid, TtyStream.TTY_STREAM_STDOUT, 0, out));
      WebTtyFrame a = owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
      WebTtyFrame b = viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA);
      assertThat(a.getSealed()).isEqualTo(out);
      assertThat(b.getSealed()).isEqualTo(out);
      assertThat(a.getSequence()).isEqualTo(b.getSequence()).isEqualTo(1);
      assertThat(h.open("stdout", b.getSealed())).isEqualTo(canary);

      // viewer stdin is refused, counted, and never reaches the server
      double before =
          h.engines
              .get(0)
              .metrics()
              .count("frames_rejected", "reason", "not_controller", "side", "client");
      viewer.send(
          h.data(sid, TtyStream.TTY_STREAM_STDIN, 1, h.seal("stdin", "rm -rf /\n".getBytes())));
      assertThat(viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
          .isEqualTo("not_controller");
      assertThat(
              h.engines
                  .get(0)
                  .metrics()
                  .count("frames_rejected", "reason", "not_controller", "side", "client"))
          .isEqualTo(before + 1);

      // controller stdin goes through
      Sealed in = h.seal("stdin", canary);
      owner.send(h.data(sid, TtyStream.TTY_STREAM_STDIN, 1, in));
      assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed()).isEqualTo(in);
      // a replayed stdin sequence closes the channel
      // (tested on a separate session below, this one keeps going)

      // viewer asks, owner gives, viewer types, owner takes back
      viewer.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST)
              .build());
      WebTtyFrame asked = owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST);
      owner.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_GIVE)
              .setParticipantId(asked.getParticipantId())
              .build());
      assertThat(viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED).getParticipantId())
          .isEqualTo(joined.getParticipantId());
      // v2: the server learns of the change (to make the new controller a fresh input key) and its
      // signed INPUT_KEY reaches that participant and the recording
      WebTtyFrame told = server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
      assertThat(told.getParticipantId()).isEqualTo(joined.getParticipantId());
      assertThat(told.getKeyId()).isEqualTo(bobKey);
      SignedMessage inputKey = EngineHarness.signed("{\"input_key\":1}");
      server.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_INPUT_KEY)
              .setSessionId(sid)
              .setParticipantId(told.getParticipantId())
              .setInputKeyGrant(inputKey)
              .addGrants(EngineHarness.grant(bobKey, key(), "input"))
              .build());
      assertThat(viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_INPUT_KEY).getInputKeyGrant())
          .isEqualTo(inputKey);
      Sealed bobIn = h.seal("stdin", "ls\n".getBytes());
      viewer.send(h.data(sid, TtyStream.TTY_STREAM_STDIN, 2, bobIn));
      assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed()).isEqualTo(bobIn);
      owner.send(h.data(sid, TtyStream.TTY_STREAM_STDIN, 2, h.seal("stdin", "x".getBytes())));
      assertThat(owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
          .isEqualTo("not_controller");
      owner.send(
          WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_TAKE).build());
      WebTtyFrame back = viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED);
      assertThat(back.getParticipantId()).isNotEqualTo(joined.getParticipantId());
      viewer.send(h.data(sid, TtyStream.TTY_STREAM_STDIN, 3, h.seal("stdin", "y".getBytes())));
      assertThat(viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
          .isEqualTo("not_controller");

      // resize from the controller reaches the server; then the process exits with 3
      owner.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESIZE)
              .setSize(TerminalSize.newBuilder().setCols(100).setRows(30))
              .build());
      assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESIZE).getSize().getCols())
          .isEqualTo(100);
      server.send(h.exit(sid, 3));
      assertThat(owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT).getExitStatus()).isEqualTo(3);
      assertThat(viewer.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT).getExitStatus()).isEqualTo(3);
      assertThat(owner.awaitClosed()).isTrue();
      assertThat(viewer.awaitClosed()).isTrue();

      // the recording replays in order, ciphertext only, and decrypts to what the owner saw
      h.drainRecordings(0);
      Replay r = replay(1, h.tokens.member(ws, alice, "member"), sid);
      assertThat(r.status).isEqualTo(200);
      assertThat(r.header.getSessionId()).isEqualTo(sid);
      assertThat(r.header.getGrantsCount()).isEqualTo(4);
      assertThat(r.events)
          .extracting(RecordedEvent::getSequence)
          .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
      assertThat(r.events.get(2).getKind()).isEqualTo(RecordedKind.RECORDED_KIND_INPUT_KEY);
      assertThat(r.events.get(2).getInputKeyGrant()).isEqualTo(inputKey);
      assertThat(r.events.get(0).getSealed()).isEqualTo(out);
      assertThat(h.open("stdout", r.events.get(0).getSealed()))
          .isEqualTo(a.getSealed().equals(out) ? canary : null);
      assertThat(r.events.get(4).getKind()).isEqualTo(RecordedKind.RECORDED_KIND_RESIZE);
      assertThat(r.events.get(5).getExitStatus()).isEqualTo(3);

      // another member who did not open it cannot replay it; another workspace sees nothing
      assertThat(replay(0, h.tokens.member(ws, bob, "member"), sid).status).isEqualTo(404);
      assertThat(replay(0, h.tokens.member(UUID.randomUUID(), alice, "owner"), sid).status)
          .isEqualTo(404);
      assertThat(replay(0, h.tokens.member(ws, "admin-1", "admin"), sid).status).isEqualTo(200);

      // canary: nowhere in PostgreSQL, Redis traffic, or logs
      assertNoCanary(canary);
      // every audit event of the session passed the kit's rules (none refused before sending)
      for (WebTtyService e : h.engines) {
        assertThat(e.metrics().count("audit_emit_rejected")).isZero();
      }
      assertThat(h.engines.get(0).metrics().count("audit_emitted")).isPositive();
    }
  }

  @Test
  void aViewerOfAnotherWorkspaceCannotJoinAndFramesForOtherSessionsAreRefused() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    try (Peer server = h.server(0, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(0, ws, "carol", "member");
        Peer intruder = h.client(1, UUID.randomUUID(), "mallory", "owner");
        Peer noGrant = h.client(1, ws, "dave", "member")) {
      String sid = h.open(server, owner, machine, k, List.of(key(), k));
      intruder.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
              .setSessionId(sid)
              .setKeyId(k)
              .build());
      assertThat(intruder.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR).getReason())
          .isEqualTo("unknown_session");
      // a JOIN with a key no grant names is REFUSED (docs/webtty.md, "Reasons"), not an ERROR: the
      // connection stays open and unbound, and the same connection may join with a granted key
      noGrant.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
              .setSessionId(sid)
              .setKeyId(key())
              .build());
      WebTtyFrame refused = noGrant.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED);
      assertThat(refused.getReason()).isEqualTo("no_grant");
      assertThat(refused.getSessionId()).isEqualTo(sid);
      noGrant.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
              .setSessionId(sid)
              .setKeyId(k)
              .build());
      WebTtyFrame joined = noGrant.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED);
      assertThat(joined.getRole()).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
      assertThat(noGrant.skipped)
          .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR);
      assertThat(noGrant.closed).isFalse();
      // an open towards a server of another workspace finds nothing
      try (Peer other = h.client(0, UUID.randomUUID(), "eve", "owner")) {
        other.send(
            WebTtyFrame.newBuilder()
                .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN)
                .setServerId(machine)
                .setSize(TerminalSize.newBuilder().setCols(80).setRows(24))
                .build());
        assertThat(other.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).getReason())
            .isEqualTo("server_offline");
      }
      // row-level security: the other workspace's transaction sees no row of this one
      var rows =
          h.engines
              .get(0)
              .recordingStore()
              .list(UUID.randomUUID(), null, 50)
              .toCompletionStage()
              .toCompletableFuture()
              .get(5, TimeUnit.SECONDS);
      assertThat(rows).isEmpty();
    }
  }

  /** Each envelope problem: frame dropped, connection closed, metric counted. */
  @Test
  void badFramesAreDroppedTheChannelClosedAndCounted() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    record Case(
        String reason, boolean fromServer, java.util.function.Function<String, byte[]> frame) {}
    List<Case> cases = new ArrayList<>();
    cases.add(
        new Case(
            "unknown_suite",
            false,
            sid -> {
              try {
                return h.data(
                        sid,
                        TtyStream.TTY_STREAM_STDIN,
                        1,
                        h.seal("stdin", "a".getBytes()).toBuilder()
                            .setPayloadSuite("chacha20-poly1305")
                            .build())
                    .toByteArray();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }));
    cases.add(
        new Case(
            "truncated",
            false,
            sid -> {
              try {
                Sealed s = h.seal("stdin", "abc".getBytes());
                return h.data(
                        sid,
                        TtyStream.TTY_STREAM_STDIN,
                        1,
                        s.toBuilder().setCiphertext(s.getCiphertext().substring(0, 10)).build())
                    .toByteArray();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }));
    cases.add(
        new Case(
            "truncated",
            false,
            sid -> {
              try {
                byte[] whole =
                    h.data(sid, TtyStream.TTY_STREAM_STDIN, 1, h.seal("stdin", "abc".getBytes()))
                        .toByteArray();
                return java.util.Arrays.copyOf(whole, whole.length - 7);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }));
    cases.add(new Case("oversized", false, sid -> new byte[WebTtyWire.MAX_FRAME_BYTES + 1]));
    cases.add(
        new Case(
            "oversized",
            true,
            sid -> {
              try {
                byte[] big = new byte[WebTtyWire.MAX_PLAINTEXT_BYTES + 1];
                Sealed s = h.seal("stdout", big);
                return h.data(sid, TtyStream.TTY_STREAM_STDOUT, 0, s).toByteArray();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }));
    cases.add(
        new Case(
            "wrong_stream",
            true,
            sid -> {
              try {
                return h.data(sid, TtyStream.TTY_STREAM_STDIN, 0, h.seal("stdin", "a".getBytes()))
                    .toByteArray();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }));
    cases.add(
        new Case(
            "wrong_key_id",
            false,
            sid -> {
              try {
                // stdin under the output key (which every recipient holds) is never valid (v2 split
                // keys)
                return h.data(
                        sid,
                        TtyStream.TTY_STREAM_STDIN,
                        1,
                        h.seal("stdin", "a".getBytes()).toBuilder()
                            .setPayloadKeyId(h.payloadKeyId)
                            .build())
                    .toByteArray();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            }));
    cases.add(
        new Case(
            "unknown_type",
            false,
            sid -> WebTtyFrame.newBuilder().setTypeValue(99).build().toByteArray()));
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      String m = machine + "-" + cases.indexOf(c);
      ByteString k = key();
      try (Peer server = h.server(0, ws, m, EngineHarness.recorded());
          Peer owner = h.client(1, ws, "frank", "member")) {
        String sid = h.open(server, owner, m, k, List.of(key(), k));
        var metrics = h.engines.get(c.fromServer ? 0 : 1).metrics();
        // the owner's frames are checked at its edge (1) or at the home (0) when only the home
        // knows
        double before =
            metrics.count(
                    "frames_rejected",
                    "reason",
                    c.reason,
                    "side",
                    c.fromServer ? "server" : "client")
                + h.engines
                    .get(0)
                    .metrics()
                    .count("frames_rejected", "reason", c.reason, "side", "client");
        Peer sender = c.fromServer ? server : owner;
        sender.sendRaw(c.frame.apply(sid));
        boolean closed = sender.awaitClosed();
        double after =
            metrics.count(
                    "frames_rejected",
                    "reason",
                    c.reason,
                    "side",
                    c.fromServer ? "server" : "client")
                + (c.fromServer
                    ? 0
                    : h.engines
                        .get(0)
                        .metrics()
                        .count("frames_rejected", "reason", c.reason, "side", "client"));
        if (!closed || after != before + 1) {
          failures.add(
              c.reason
                  + (c.fromServer ? " from server" : " from client")
                  + ": closed="
                  + closed
                  + " counted="
                  + (after - before));
        }
        if (!c.fromServer) {
          // nothing was forwarded to the server
          WebTtyFrame leaked = server.inbox.poll(200, TimeUnit.MILLISECONDS);
          if (leaked != null && leaked.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA) {
            failures.add(c.reason + ": forwarded to the server");
          }
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void aReplayedStdinSequenceClosesTheChannelAndIsCounted() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    try (Peer server = h.server(0, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(0, ws, "henry", "member")) {
      String sid = h.open(server, owner, machine, k, List.of(key(), k));
      WebTtyFrame first =
          h.data(sid, TtyStream.TTY_STREAM_STDIN, 1, h.seal("stdin", "a".getBytes()));
      owner.send(first);
      assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed())
          .isEqualTo(first.getSealed());
      double before =
          h.engines
              .get(0)
              .metrics()
              .count("frames_rejected", "reason", "replayed", "side", "client");
      owner.send(first);
      assertThat(owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR).getReason())
          .isEqualTo("replayed");
      assertThat(owner.awaitClosed()).isTrue();
      assertThat(
              h.engines
                  .get(0)
                  .metrics()
                  .count("frames_rejected", "reason", "replayed", "side", "client"))
          .isEqualTo(before + 1);
      assertThat(server.inbox.poll(200, TimeUnit.MILLISECONDS))
          .satisfiesAnyOf(
              f -> assertThat(f).isNull(),
              f -> assertThat(f.getType()).isNotEqualTo(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA));
    }
  }

  @Test
  void theReviewersInputKeyGrantBeforeReadyIsRecordedAheadOfStdinTypedAtOnce() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    String opener = "ivy-" + UUID.randomUUID();
    ByteString k = key();
    SignedMessage grant = EngineHarness.signed("{\"input_key\":0}");
    try (Peer server = h.server(0, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(0, ws, opener, "member")) {
      // the daemon sends the epoch-0 grant (to no participant) before READY, on its own socket
      String sid =
          h.open(
              server,
              owner,
              machine,
              k,
              List.of(key(), k),
              id ->
                  server.send(
                      WebTtyFrame.newBuilder()
                          .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_INPUT_KEY)
                          .setSessionId(id)
                          .setInputKeyGrant(grant)
                          .addGrants(EngineHarness.grant(key(), key(), "input"))
                          .build()));
      // the opener types the moment READY arrives, without waiting for anything else
      Sealed in = h.seal("stdin", "first\n".getBytes());
      owner.send(h.data(sid, TtyStream.TTY_STREAM_STDIN, 1, in));
      assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed()).isEqualTo(in);
      server.send(h.exit(sid, 0));
      assertThat(owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT).getExitStatus()).isZero();
      assertThat(owner.skipped)
          .as("the grant names no participant: handed to nobody")
          .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_INPUT_KEY);

      h.drainRecordings(0);
      Replay r = replay(0, h.tokens.member(ws, opener, "member"), sid);
      assertThat(r.status).isEqualTo(200);
      assertThat(r.events)
          .extracting(RecordedEvent::getKind)
          .containsExactly(
              RecordedKind.RECORDED_KIND_INPUT_KEY,
              RecordedKind.RECORDED_KIND_DATA,
              RecordedKind.RECORDED_KIND_EXIT);
      assertThat(r.events.get(0).getInputKeyGrant()).isEqualTo(grant);
      assertThat(r.events.get(1).getSealed()).isEqualTo(in);
    }
  }

  @Test
  void retentionRemovesRecordingsThatEndedBeforeTheCutoff() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    String sid;
    try (Peer server = h.server(0, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(0, ws, "ivy", "member")) {
      sid = h.open(server, owner, machine, k, List.of(key(), k));
      server.send(h.data(sid, TtyStream.TTY_STREAM_STDOUT, 0, h.seal("stdout", "x".getBytes())));
      server.send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT)
              .setSessionId(sid)
              .build());
      owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT);
    }
    var engine = h.engines.get(0);
    Futures.await(engine.recordingWriter().drained(), Duration.ofSeconds(10));
    String token = h.tokens.member(ws, "ivy", "member");
    assertThat(replay(0, token, sid).status).isEqualTo(200);
    // a cutoff before the session ended keeps it; one after removes it with its events
    engine
        .recordingStore()
        .sweep(java.time.Instant.now().minusSeconds(3600), 1000)
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertThat(replay(0, token, sid).status).isEqualTo(200);
    int removed =
        engine
            .recordingStore()
            .sweep(java.time.Instant.now().plusSeconds(60), 1000)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(removed).isGreaterThanOrEqualTo(1);
    assertThat(replay(0, token, sid).status).isEqualTo(404);
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM webtty.events WHERE session_id = '" + sid + "'")) {
      rs.next();
      assertThat(rs.getLong(1)).isZero();
    }
  }

  @Test
  void theRetentionSweepDeletesExpiredSessionsOfSeveralWorkspacesAndKeepsRecentOnes()
      throws Exception {
    var store = h.engines.get(0).recordingStore();
    long old = Instant.now().minusSeconds(7200).toEpochMilli();
    List<UUID> workspaces = List.of(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID());
    for (UUID ws : workspaces) {
      store
          .createSession(ws, "expired", "m", "ivy", true, old, new byte[] {1})
          .compose(v -> store.endSession(ws, "expired", old + 1000, "exit", 0))
          .compose(
              v ->
                  store.createSession(
                      ws, "recent", "m", "ivy", true, Instant.now().toEpochMilli(), new byte[] {1}))
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    }
    // the sweep runs as the request role, which RLS alone would confine to no workspace at all
    List<String> told = new CopyOnWriteArrayList<>();
    int removed =
        store
            .sweep(Instant.now().minusSeconds(3600), 1000, (ws, sid) -> told.add(ws + "/" + sid))
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(removed).isGreaterThanOrEqualTo(workspaces.size());
    // what the service audits as recording.deleted: each expired session once, none of the recent
    // ones
    assertThat(told)
        .containsAll(workspaces.stream().map(ws -> ws + "/expired").toList())
        .noneMatch(t -> t.endsWith("/recent"))
        .doesNotHaveDuplicates();
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement()) {
      for (UUID ws : workspaces) {
        try (ResultSet rs =
            st.executeQuery(
                "SELECT session_id FROM webtty.sessions WHERE workspace_id = '"
                    + ws
                    + "' ORDER BY 1")) {
          List<String> left = new ArrayList<>();
          while (rs.next()) {
            left.add(rs.getString(1));
          }
          assertThat(left).as("sessions left in " + ws).containsExactly("recent");
        }
      }
    }
  }

  @Test
  void aRevocationEndsTheRevokedPartysLiveSessionsAndRefusesNewOnes() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    String gina = "gina-" + UUID.randomUUID();
    ByteString k = key();
    try (Peer server = h.server(0, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(1, ws, gina, "member")) {
      String sid = h.open(server, owner, machine, k, List.of(key(), k));
      String before = h.tokens.member(ws, gina, "member");
      Revocation r =
          Revoked.message(RevokedKind.REVOKED_KIND_MEMBER, ws, "member-id", gina, Instant.now());
      h.publishRevocation(1, r);
      assertThat(server.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).getReason())
          .isEqualTo("revoked");
      assertThat(owner.awaitClosed()).isTrue();
      assertThat(h.engines.get(0).hub().liveSessionIds(ws)).doesNotContain(sid);
      // a new connection of the revoked party is refused before any WebSocket exists
      HttpResponse<String> resp =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + h.port(0) + WebTtyWire.CLIENT_PATH))
                  .header("Authorization", "Bearer " + before)
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).isEqualTo(401);
    }
  }

  @Test
  void aRevokedMachineIsDisconnectedItsSessionsEndAndItCannotRegisterAgain() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    try (Peer server = h.server(1, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(0, ws, "jane", "member")) {
      h.open(server, owner, machine, k, List.of(key(), k));
      Revocation r =
          Revoked.message(RevokedKind.REVOKED_KIND_MACHINE, ws, machine, null, Instant.now());
      h.publishRevocation(0, r);
      assertThat(server.awaitClosed()).isTrue();
      // the session ends because its machine was revoked, and says so (was server_gone, which
      // a revocation arriving after the link's own drop did not give: EngineServerLinkTest)
      assertThat(owner.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).getReason())
          .isEqualTo("revoked");
      HttpResponse<String> resp =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + h.port(1) + WebTtyWire.SERVER_PATH))
                  .header("Authorization", "Bearer " + h.tokens.machine(ws, machine))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).isEqualTo(401);
    }
  }

  @Test
  void tokensOfTheWrongKindOrMissingAreRefusedBeforeUpgrade() throws Exception {
    UUID ws = UUID.randomUUID();
    for (var c :
        List.of(
            Map.entry(WebTtyWire.SERVER_PATH, h.tokens.member(ws, "x", "owner")),
            Map.entry(WebTtyWire.CLIENT_PATH, h.tokens.machine(ws, "m")),
            Map.entry(WebTtyWire.CLIENT_PATH, "not-a-token"))) {
      HttpResponse<String> resp =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + h.port(0) + c.getKey()))
                  .header("Authorization", "Bearer " + c.getValue())
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(resp.statusCode()).as(c.getKey()).isEqualTo(401);
    }
  }

  /**
   * GET /v1/webtty/sessions as {@code token}: the status and, on 200, the listed session ids with
   * their recipients.
   */
  io.vertx.core.json.JsonObject liveSessions(String token, String query) throws Exception {
    HttpResponse<String> resp =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + h.port(1)
                            + WebTtyWire.SESSIONS_PATH
                            + (query == null ? "" : "?" + query)))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    io.vertx.core.json.JsonObject out =
        new io.vertx.core.json.JsonObject().put("status", resp.statusCode());
    if (resp.statusCode() == 200) {
      List<String> ids = new ArrayList<>();
      for (Object o : new io.vertx.core.json.JsonObject(resp.body()).getJsonArray("sessions")) {
        io.vertx.core.json.JsonObject j = (io.vertx.core.json.JsonObject) o;
        ids.add(j.getString("session_id"));
        out.put(j.getString("session_id"), j);
      }
      out.put("ids", ids);
    }
    return out;
  }

  @Test
  void liveSessionsAreListedToWhoMayCareAndNeverAcrossWorkspaces() throws Exception {
    UUID ws = UUID.randomUUID();
    UUID other = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString k = key();
    ByteString viewer = key();
    String viewerHex = java.util.HexFormat.of().formatHex(viewer.toByteArray());
    try (Peer server = h.server(0, ws, machine, EngineHarness.recorded());
        Peer owner = h.client(0, ws, "jane", "member")) {
      String sid = h.open(server, owner, machine, k, List.of(key(), k, viewer));
      h.drainRecordings(0);

      io.vertx.core.json.JsonObject opener =
          liveSessions(h.tokens.member(ws, "jane", "member"), null);
      assertThat(opener.getJsonArray("ids").getList()).containsExactly(sid);
      io.vertx.core.json.JsonObject row = opener.getJsonObject(sid);
      assertThat(row.getString("server_id")).isEqualTo(machine);
      assertThat(row.getString("opened_by")).isEqualTo("jane");
      assertThat(row.getString("started_at")).isNotBlank();
      assertThat(row.getJsonArray("output_recipients").getList()).contains(viewerHex).hasSize(3);

      // another member: only with a key id the opener granted; an admin: always
      assertThat(
              liveSessions(h.tokens.member(ws, "bob", "member"), null)
                  .getJsonArray("ids")
                  .getList())
          .isEmpty();
      assertThat(
              liveSessions(h.tokens.member(ws, "bob", "member"), "key_id=" + viewerHex)
                  .getJsonArray("ids")
                  .getList())
          .containsExactly(sid);
      assertThat(
              liveSessions(h.tokens.member(ws, "bob", "member"), "key_id=" + "0".repeat(32))
                  .getJsonArray("ids")
                  .getList())
          .isEmpty();
      assertThat(
              liveSessions(h.tokens.member(ws, "ann", "admin"), null).getJsonArray("ids").getList())
          .containsExactly(sid);

      // another workspace's admin, even naming the granted key id: nothing
      assertThat(
              liveSessions(h.tokens.member(other, "eve", "owner"), "key_id=" + viewerHex)
                  .getJsonArray("ids")
                  .getList())
          .isEmpty();
      // a machine, a malformed key id, no token
      assertThat(liveSessions(h.tokens.machine(ws, machine), null).getInteger("status"))
          .isEqualTo(403);
      assertThat(
              liveSessions(h.tokens.member(ws, "bob", "member"), "key_id=XYZ").getInteger("status"))
          .isEqualTo(400);
      assertThat(liveSessions("not-a-token", null).getInteger("status")).isEqualTo(401);
    }
  }

  record Replay(int status, RecordingHeader header, List<RecordedEvent> events) {}

  Replay replay(int instance, String token, String sid) throws Exception {
    HttpResponse<byte[]> resp =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + h.port(instance)
                            + WebTtyWire.RECORDINGS_PATH
                            + "/"
                            + sid))
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    if (resp.statusCode() != 200) {
      return new Replay(resp.statusCode(), null, List.of());
    }
    ByteArrayInputStream in = new ByteArrayInputStream(resp.body());
    RecordingHeader header = RecordingHeader.parseDelimitedFrom(in);
    List<RecordedEvent> events = new ArrayList<>();
    RecordedEvent e;
    while ((e = RecordedEvent.parseDelimitedFrom(in)) != null) {
      events.add(e);
    }
    return new Replay(200, header, events);
  }

  static void assertNoCanary(byte[] canary) throws Exception {
    assertNoCanary(h, busTraffic, canary);
  }

  /**
   * The canary is nowhere in harness {@code h}'s PostgreSQL, the bus traffic a test recorded, or
   * the logs.
   */
  static void assertNoCanary(EngineHarness h, List<byte[]> busTraffic, byte[] canary)
      throws Exception {
    String needle = new String(canary, StandardCharsets.UTF_8);
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement()) {
      for (String table : List.of("sessions", "events", "flyway_schema_history")) {
        try (ResultSet rs = st.executeQuery("SELECT t::text FROM webtty." + table + " t")) {
          while (rs.next()) {
            assertThat(rs.getString(1)).doesNotContain(needle);
          }
        }
        try (ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM webtty."
                    + table
                    + " t WHERE position(convert_to('"
                    + needle
                    + "', 'UTF8') in convert_to(t::text, 'UTF8')) > 0")) {
          rs.next();
          assertThat(rs.getLong(1)).isZero();
        }
      }
    }
    assertThat(busTraffic).isNotEmpty();
    for (byte[] m : busTraffic) {
      // ISO-8859-1 maps each byte to one char: a byte search as a string search
      assertThat(new String(m, StandardCharsets.ISO_8859_1))
          .doesNotContain(new String(canary, StandardCharsets.ISO_8859_1));
    }
    LogRing ring = LogRing.installed();
    if (ring != null) {
      for (String line : ring.recent(2000)) {
        assertThat(line).doesNotContain(needle);
      }
    }
  }
}
