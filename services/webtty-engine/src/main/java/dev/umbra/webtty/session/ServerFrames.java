package dev.umbra.webtty.session;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.recording.RecordingWriter;
import dev.umbra.webtty.session.model.Decision;
import dev.umbra.webtty.session.model.SessionModel;

/**
 * The {@link SessionHome}'s side facing the server: each frame a registered server sends about one
 * of its sessions goes through the session's {@link SessionModel} and is carried out here (the
 * handshake's SERVER_HELLO and READY, output, input and output key documents, the server's
 * refusals, EXIT and CLOSE). A frame the model rejects closes the server's connection. Confined to
 * the verticle's event loop.
 */
final class ServerFrames {
  private final SessionHome home;
  private final EngineMetrics metrics;
  private final AuditEmitter audit;
  private final RecordingWriter writer;
  private final EdgeRouter edge;
  private final Fanout fanout;

  ServerFrames(
      SessionHome home,
      EngineMetrics metrics,
      AuditEmitter audit,
      RecordingWriter writer,
      EdgeRouter edge,
      Fanout fanout) {
    this.home = home;
    this.metrics = metrics;
    this.audit = audit;
    this.writer = writer;
    this.edge = edge;
    this.fanout = fanout;
  }

  /** A frame from a registered server about one of its sessions (the edge checked its envelope). */
  void onServerFrame(ServerConn conn, WebTtyFrame f) {
    Session s = home.session(f.getSessionId());
    if (s == null || s.server != conn) {
      // a session that ended meanwhile: drop quietly (counted), the server learns from CLOSE
      metrics.dropped("unknown_session");
      return;
    }
    SessionModel m = s.model;
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_SERVER_HELLO -> serverHello(conn, s, f);
      case WEBTTY_FRAME_TYPE_READY -> {
        if (accepted(conn, f, m.ready())) {
          live(s, f);
        }
      }
      case WEBTTY_FRAME_TYPE_DATA -> output(conn, s, f);
      case WEBTTY_FRAME_TYPE_EXIT -> {
        WebTtyFrame out = fanout.stamp(s, f);
        fanout.record(
            s,
            Fanout.event(out, RecordedKind.RECORDED_KIND_EXIT)
                .setExitStatus(f.getExitStatus())
                .build());
        home.endSession(s, WebTtyReason.WEBTTY_REASON_EXIT, out);
      }
      case WEBTTY_FRAME_TYPE_INPUT_KEY -> inputKey(conn, s, f);
      case WEBTTY_FRAME_TYPE_OUTPUT_KEY -> outputKey(conn, s, f);
      case WEBTTY_FRAME_TYPE_REFUSED -> refused(s, f);
      // a reason the table does not name (a newer or foreign daemon) ends the session as
      // server_closed
      case WEBTTY_FRAME_TYPE_CLOSE ->
          home.endSession(
              s,
              WebTtyReasons.parse(f.getReason()).orElse(WebTtyReason.WEBTTY_REASON_SERVER_CLOSED),
              null);
      default -> edge.rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_UNKNOWN_TYPE);
    }
  }

  private void serverHello(ServerConn conn, Session s, WebTtyFrame f) {
    SessionModel m = s.model;
    if (accepted(conn, f, m.serverHello(f.getServerHello()))) {
      // the opener learns its participant id here (it gets no JOINED), to recognise control
      // changes naming it
      m.opener()
          .ifPresent(
              o ->
                  fanout.sendTo(
                      o, f.toBuilder().setServerId(m.serverId()).setParticipantId(o.id()).build()));
    }
  }

  private void output(ServerConn conn, Session s, WebTtyFrame f) {
    if (accepted(conn, f, s.model.output(f.getSealed().getPayloadKeyId()))) {
      WebTtyFrame out = fanout.stamp(s, f);
      fanout.record(
          s,
          Fanout.event(out, RecordedKind.RECORDED_KIND_DATA)
              .setStream(f.getStream())
              .setSealed(f.getSealed())
              .build());
      fanout.sendToAll(s, out);
      s.remember(out);
      metrics.forwarded("data");
      edge.checkPressure(conn);
    }
  }

  /**
   * An input key document: the opener's epoch-0 grant for the reviewers (sent before READY, to no
   * participant) or a control handover's fresh input key. Recorded (whoever holds it can read that
   * stdin in an export) and handed to the participant it names; the grant is public, signed by the
   * daemon.
   */
  private void inputKey(ServerConn conn, Session s, WebTtyFrame f) {
    SessionModel m = s.model;
    if (accepted(conn, f, m.inputKey())) {
      WebTtyFrame out = fanout.stamp(s, f);
      fanout.record(
          s,
          Fanout.event(out, RecordedKind.RECORDED_KIND_INPUT_KEY)
              .setInputKeyGrant(f.getInputKeyGrant())
              .build());
      m.participant(f.getParticipantId()).ifPresent(to -> fanout.sendTo(to, out));
      metrics.forwarded("input_key");
    }
  }

  private void outputKey(ServerConn conn, Session s, WebTtyFrame f) {
    SessionModel m = s.model;
    Decision d = m.outputKey(f.getGrantsList(), f.getOutputKeyEpoch());
    if (accepted(conn, f, d) && d instanceof Decision.Shared shared) {
      WebTtyFrame out = fanout.stamp(s, f);
      fanout.record(
          s,
          Fanout.event(out, RecordedKind.RECORDED_KIND_OUTPUT_KEY)
              .setOutputKeyEpoch(f.getOutputKeyEpoch())
              .build());
      writer.outputRecipients(m.workspaceId(), m.id(), shared.recipients());
      fanout.sendToAll(s, out);
      s.remember(out);
      metrics.forwarded("output_key");
    }
  }

  /** The daemon refused a SHARE: only the participant who sent it hears why. */
  private void refused(Session s, WebTtyFrame f) {
    s.model
        .participant(f.getParticipantId())
        .ifPresent(
            to ->
                fanout.sendTo(
                    to,
                    WebTtyFrame.newBuilder()
                        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
                        .setSessionId(s.id())
                        .setReason(f.getReason())
                        .build()));
  }

  /**
   * True when the model accepted the server's frame; a rejection closes the server's connection.
   */
  private boolean accepted(ServerConn conn, WebTtyFrame f, Decision d) {
    if (d instanceof Decision.Rejected r) {
      edge.rejectServer(conn, f, r.reason());
      return false;
    }
    return true;
  }

  private void live(Session s, WebTtyFrame ready) {
    home.cancelTimer(s);
    metrics.liveSessions.incrementAndGet();
    metrics.sessionsOpened();
    fanout.sendToAll(s, ready);
    audit
        .event(AuditAction.TERMINAL_OPENED)
        .workspace(s.model.workspaceId())
        .actor(AuditActor.member(s.model.openedBy()))
        .target("session", s.id())
        .meta("server_id", s.model.serverId())
        .meta("recording", Boolean.toString(s.model.policy().getRecording()))
        .success()
        .emit();
  }
}
