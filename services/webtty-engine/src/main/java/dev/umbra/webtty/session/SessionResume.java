package dev.umbra.webtty.session;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.recording.RecordingStore;
import dev.umbra.webtty.session.model.Resumption;
import dev.umbra.webtty.session.model.SessionModel;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Engine failover, the new home's side (docs/webtty.md "Engine failover"): a server that lost its
 * engine instance reconnects, registers and sends RESUME for each session it kept alive. The engine
 * cannot verify the daemon's signature (it holds no crypto); it checks what it can — the document's
 * type and ids are this connection's workspace, server and the frame's session, the session is a
 * live one of this server in PostgreSQL and not homed here, and the document's epoch is newer than
 * the stored one (stored in the same statement: a replayed resume is refused) — and fails closed on
 * anything else (REFUSED {@code resume_refused*}; the daemon then ends the session). The
 * participants verify the signed document against their pinned server key when they come back.
 */
final class SessionResume {
  static final String TYPE = "umbra-webtty-resume/v1";
  private static final HexFormat HEX = HexFormat.of();

  private final SessionHome home;
  private final RecordingStore store;
  private final Fanout fanout;
  private final EngineMetrics metrics;
  private final Clock clock;
  private final AuditEmitter audit;
  private final String instanceId;
  private final ServerLinkGrace serverGrace;

  SessionResume(
      SessionHome home,
      RecordingStore store,
      Fanout fanout,
      EngineMetrics metrics,
      Clock clock,
      AuditEmitter audit,
      String instanceId,
      ServerLinkGrace serverGrace) {
    this.home = home;
    this.store = store;
    this.fanout = fanout;
    this.metrics = metrics;
    this.clock = clock;
    this.audit = audit;
    this.instanceId = instanceId;
    this.serverGrace = serverGrace;
  }

  /** The ids and numbers of a resume document the engine relies on (the rest is the clients'). */
  record Document(long epoch, ByteString outputKeyId, String controllerKeyHex) {}

  /**
   * Parses the canonical JSON of a resume document for this connection's workspace and server and
   * the frame's session; empty when it is anything else.
   */
  static Optional<Document> document(WebTtyFrame f, String workspaceId, String serverId) {
    try {
      JsonObject j =
          new JsonObject(f.getResume().getCanonicalJson().toString(StandardCharsets.UTF_8));
      String controller = j.getString("controller_key_id", "");
      if (!TYPE.equals(j.getString("type"))
          || !workspaceId.equals(j.getString("workspace_id"))
          || !serverId.equals(j.getString("server_id"))
          || !f.getSessionId().equals(j.getString("session_id"))
          || j.getLong("epoch") == null
          || j.getLong("epoch") < 1
          || !(controller.isEmpty() || controller.matches("[0-9a-f]{32}"))
          || !j.getString("output_key_id", "").matches("[0-9a-f]{32}")) {
        return Optional.empty();
      }
      return Optional.of(
          new Document(
              j.getLong("epoch"),
              ByteString.copyFrom(HEX.parseHex(j.getString("output_key_id"))),
              controller));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * A RESUME from a registered server (the edge checked its envelope). A session homed here is
   * refused, unless it waits for this very server since its connection dropped ({@link
   * ServerLinkGrace}): then the same checks and the stored epoch decide, and it is rebound.
   */
  void onResume(ServerConn conn, WebTtyFrame f) {
    String ws = conn.claims.workspaceId().toString();
    Optional<Document> doc = document(f, ws, conn.serverId);
    Session held = home.session(f.getSessionId());
    if (doc.isEmpty() || (held != null && !waitsFor(held, conn))) {
      refuse(conn, f, WebTtyReason.WEBTTY_REASON_RESUME_REFUSED);
      return;
    }
    store
        .resume(conn.claims.workspaceId(), f.getSessionId(), conn.serverId, doc.get().epoch())
        .onComplete(
            ar -> {
              if (conn.closed) {
                return;
              }
              if (ar.failed() || ar.result().status() == RecordingStore.ResumeStatus.UNKNOWN) {
                refuse(conn, f, WebTtyReason.WEBTTY_REASON_RESUME_REFUSED);
              } else if (ar.result().status() == RecordingStore.ResumeStatus.REPLAYED) {
                refuse(conn, f, WebTtyReason.WEBTTY_REASON_RESUME_REFUSED_REPLAYED);
              } else if (held != null
                  && home.session(f.getSessionId()) == held
                  && waitsFor(held, conn)) {
                rebind(conn, f, held, doc.get().epoch());
              } else if (home.session(f.getSessionId()) != null) {
                refuse(conn, f, WebTtyReason.WEBTTY_REASON_RESUME_REFUSED);
              } else {
                takeOver(conn, f, doc.get(), ar.result());
              }
            });
  }

  /** {@code s} waits here for its server, and {@code conn} is that server (workspace and id). */
  private static boolean waitsFor(Session s, ServerConn conn) {
    return ServerLinkGrace.awaitsServer(s)
        && s.model.workspaceId().equals(conn.claims.workspaceId())
        && s.model.serverId().equals(conn.serverId);
  }

  /**
   * The server came back to the home that kept its session: the session is its again, nothing was
   * lost on the engine's side (no GAP; output it had sealed into the dropped socket is reported by
   * the clients' counters).
   */
  private void rebind(ServerConn conn, WebTtyFrame f, Session s, long epoch) {
    serverGrace.rebind(s, conn, epoch);
    audited(conn, s.id(), epoch, "same_instance", f.getSequence(), f.getSequence(), 0);
    metrics.forwarded("resume");
    conn.write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED)
            .setSessionId(s.id())
            .setSequence(f.getSequence())
            .build());
  }

  /**
   * {@code terminal.resumed}: envelope facts only (the session, this instance, how it was resumed,
   * the epoch, the stored and hinted sequences and how many events at least were not stored).
   */
  private void audited(
      ServerConn conn,
      String sessionId,
      long epoch,
      String how,
      long storedSequence,
      long hintedSequence,
      long gapSequence) {
    audit
        .event(AuditAction.TERMINAL_RESUMED)
        .workspace(conn.claims.workspaceId())
        .actor(AuditActor.machine(conn.claims.subject()))
        .target("session", sessionId)
        .meta("instance", instanceId)
        .meta("takeover", how)
        .meta("epoch", Long.toString(epoch))
        .meta("stored_sequence", Long.toString(storedSequence))
        .meta("hinted_sequence", Long.toString(hintedSequence))
        .meta("gap_sequence", Long.toString(gapSequence))
        .meta("unstored_events", Long.toString(Math.max(0, hintedSequence - storedSequence)))
        .success()
        .emit();
  }

  private void takeOver(
      ServerConn conn, WebTtyFrame f, Document doc, RecordingStore.Resumed stored) {
    RecordingHeader h;
    try {
      h = RecordingHeader.parseFrom(stored.header());
    } catch (InvalidProtocolBufferException e) {
      refuse(conn, f, WebTtyReason.WEBTTY_REASON_RESUME_REFUSED);
      return;
    }
    long gap = Math.max(stored.lastSequence(), f.getSequence()) + 1;
    SessionModel m =
        SessionModel.resumed(
            f.getSessionId(),
            conn.claims.workspaceId(),
            conn.serverId,
            conn.policy,
            new Resumption(
                stored.openedBy(),
                stored.startedMs(),
                h.getInitialSize(),
                h.getServerHello(),
                h.getClientProof(),
                h.getGrantsList(),
                h.getKeyContext(),
                doc.outputKeyId(),
                f.hasOutputKeyEpoch() ? f.getOutputKeyEpoch() : null,
                f.hasOutputKeyEpoch() ? f.getGrantsList() : List.of(),
                doc.controllerKeyHex(),
                gap,
                f.getResume()));
    Session s = new Session(m, conn);
    s.stored = true;
    s.resumeEpoch = doc.epoch();
    home.adopt(s);
    audited(
        conn, s.id(), doc.epoch(), "other_instance", stored.lastSequence(), f.getSequence(), gap);
    // the recording says where the failover happened: what the dead home numbered but had not
    // stored is missing before this event (exports show it; counters tell exactly what)
    fanout.record(
        s,
        RecordedEvent.newBuilder()
            .setSequence(m.nextSequence())
            .setTimeUnixMs(clock.millis())
            .setKind(RecordedKind.RECORDED_KIND_GAP)
            .setResume(f.getResume())
            .build());
    metrics.forwarded("resume");
    conn.write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED)
            .setSessionId(s.id())
            .setSequence(gap)
            .build());
  }

  /** The notice a participant gets right after JOINED in a resumed session. */
  static Optional<WebTtyFrame> notice(SessionModel m) {
    return m.resume()
        .map(
            doc ->
                WebTtyFrame.newBuilder()
                    .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED)
                    .setSessionId(m.id())
                    .setReason(
                        dev.umbra.proto.webtty.WebTtyReasons.wire(
                            WebTtyReason.WEBTTY_REASON_ENGINE_FAILOVER))
                    .setResume(doc)
                    .build());
  }

  /**
   * What a participant re-joining after a failover missed: the frames this home sent since it took
   * over with a sequence above {@code seen} (the last one the participant saw, carried in its
   * JOIN/ATTACH; 0, an ordinary join, gets nothing).
   */
  static List<WebTtyFrame> replay(Session s, long seen) {
    if (s.replay == null || seen <= 0) {
      return List.of();
    }
    return s.replay.stream().filter(f -> f.getSequence() > seen).toList();
  }

  private void refuse(ServerConn conn, WebTtyFrame f, WebTtyReason reason) {
    metrics.rejected("server", dev.umbra.proto.webtty.WebTtyReasons.wire(reason));
    conn.write(Frames.refused(f.getSessionId(), reason));
  }
}
