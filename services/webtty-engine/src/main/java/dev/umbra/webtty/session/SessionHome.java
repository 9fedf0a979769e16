package dev.umbra.webtty.session;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventBuilder;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.id.Ulid;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.recording.RecordingWriter;
import dev.umbra.webtty.session.model.Decision;
import dev.umbra.webtty.session.model.Participant;
import dev.umbra.webtty.session.model.SessionModel;
import dev.umbra.webtty.session.model.SessionModel.Aftermath;
import dev.umbra.webtty.session.model.SessionModel.Departure;
import dev.umbra.webtty.session.model.SessionModel.Phase;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The session home (docs/webtty.md, "Engine internals"): the instance holding a server's connection
 * is the single authority of each of its sessions. It owns the sessions, hands every frame to the
 * session's {@link SessionModel}, and carries out the decision: fan-out (through the {@link
 * EdgeRouter}, to local connections directly, to other instances over the bus), recording, audit,
 * metrics, timers. Confined to the verticle's event loop.
 */
final class SessionHome {
  private static final String CLIENT = "client";

  private final Vertx vertx;
  private final Bus bus;
  private final Clock clock;
  private final EngineMetrics metrics;
  private final AuditEmitter audit;
  private final RecordingWriter writer;
  private final SessionHub.Settings settings;
  private final Ulid ulid;
  private final EdgeRouter edge;
  private final Fanout fanout;
  private final ServerFrames serverFrames;
  private final SessionResume resume;
  private final ServerLinkGrace serverGrace;
  private final SessionJoins joins;
  private final TakeoverNotice takeovers;
  private final Map<String, Session> sessions = new HashMap<>();
  private final String instanceId;

  SessionHome(
      Vertx vertx,
      Bus bus,
      Clock clock,
      EngineMetrics metrics,
      AuditEmitter audit,
      RecordingWriter writer,
      SessionHub.Settings settings,
      Ulid ulid,
      EdgeRouter edge,
      String instanceId) {
    this.vertx = vertx;
    this.bus = bus;
    this.clock = clock;
    this.metrics = metrics;
    this.audit = audit;
    this.writer = writer;
    this.settings = settings;
    this.ulid = ulid;
    this.edge = edge;
    this.instanceId = instanceId;
    this.fanout = new Fanout(clock, writer, edge);
    this.takeovers =
        new TakeoverNotice(bus, metrics, instanceId, settings.internalCredential(), clock);
    this.serverFrames = new ServerFrames(this, metrics, audit, writer, edge, fanout);
    this.joins = new SessionJoins(this, fanout, audit, metrics, clock);
    this.serverGrace = new ServerLinkGrace(vertx, this, writer.store(), settings.serverGrace());
    this.resume =
        new SessionResume(
            this, writer.store(), fanout, metrics, clock, audit, instanceId, serverGrace);
  }

  /** This instance's takeover notices (announced here, opened for the edge). */
  TakeoverNotice takeovers() {
    return takeovers;
  }

  int size() {
    return sessions.size();
  }

  /** The sessions homed here of workspace {@code ws} (a copy). */
  List<Session> sessionsOf(UUID ws) {
    return sessions.values().stream().filter(s -> s.model.workspaceId().equals(ws)).toList();
  }

  /**
   * A session taken over from a home that died ({@link SessionResume}): homed here from now on, its
   * bus channel subscribed, and the shell kept for the detach grace until its opener is back.
   */
  void adopt(Session s) {
    sessions.put(s.id(), s);
    s.server.sessions.add(s.id());
    s.replay = new java.util.ArrayDeque<>();
    metrics.liveSessions.incrementAndGet();
    afterLeave(s, new Departure(null, false, Aftermath.AWAIT_OPENER));
    bus.subscribe(BusNames.webttySession(s.id()), this::onHomeMessage)
        .onSuccess(
            sub -> {
              s.channel = sub;
              takeovers.announce(s.id());
            })
        .onFailure(e -> endSession(s, WebTtyReason.WEBTTY_REASON_BUS_UNAVAILABLE, null));
  }

  // ---------------------------------------------------------------- participants' frames

  /**
   * Frames sent to the home over the bus (OPEN on the server channel, the rest on the session's).
   */
  void onHomeMessage(BusMessage m) {
    WebTtyBusMessage msg = Frames.busMessage(m, metrics).orElse(null);
    if (msg == null) {
      return;
    }
    if (msg.getDirection() != BusDirection.BUS_DIRECTION_TO_HOME) {
      metrics.dropped("malformed_bus_message");
      return;
    }
    for (WebTtyFrame f : msg.getFramesList()) {
      onClientFrame(msg, f);
    }
  }

  /**
   * A participant's frame, from this instance's edge or another's; {@code who} is its verified
   * sender.
   */
  void onClientFrame(WebTtyBusMessage who, WebTtyFrame f) {
    UUID ws;
    Role role;
    try {
      ws = UUID.fromString(who.getWorkspaceId());
      role = Role.parse(who.getRole()).orElseThrow();
    } catch (RuntimeException e) {
      metrics.dropped("malformed_bus_message");
      return;
    }
    if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN) {
      open(who, ws, role, f);
      return;
    }
    Session s = sessions.get(f.getSessionId());
    if (s == null) {
      if (f.getType() != WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE) {
        fanout.replyTo(
            who, Frames.error(f.getSessionId(), WebTtyReason.WEBTTY_REASON_UNKNOWN_SESSION));
      }
      return;
    }
    if (!s.model.workspaceId().equals(ws)) {
      // a frame for another workspace's session: refused, counted, never forwarded
      metrics.rejected(CLIENT, "wrong_workspace");
      fanout.replyTo(
          who, Frames.error(f.getSessionId(), WebTtyReason.WEBTTY_REASON_UNKNOWN_SESSION));
      return;
    }
    var p = s.model.participant(who.getParticipantId()).orElse(null);
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_JOIN, WEBTTY_FRAME_TYPE_ATTACH -> joins.join(s, who, role, f);
      case WEBTTY_FRAME_TYPE_CLOSE -> {
        if (p != null) {
          leave(s, p, f);
        }
      }
      default -> {
        if (p == null) {
          fanout.replyTo(
              who, Frames.error(f.getSessionId(), WebTtyReason.WEBTTY_REASON_NOT_PARTICIPANT));
          return;
        }
        participantFrame(s, p, f);
      }
    }
  }

  /**
   * CLOSE from a participant: detached, terminate, disconnected; anything else (or nothing) is a
   * plain leave.
   */
  private void leave(Session s, Participant p, WebTtyFrame f) {
    WebTtyReason why =
        WebTtyReasons.parse(f.getReason())
            .filter(
                r ->
                    r == WebTtyReason.WEBTTY_REASON_DETACHED
                        || r == WebTtyReason.WEBTTY_REASON_TERMINATE
                        || r == WebTtyReason.WEBTTY_REASON_DISCONNECTED)
            .orElse(WebTtyReason.WEBTTY_REASON_LEFT);
    removeParticipant(s, p, why);
    if (why == WebTtyReason.WEBTTY_REASON_TERMINATE && s.model.isOpener(p)) {
      endSession(s, WebTtyReason.WEBTTY_REASON_TERMINATED, null);
    }
  }

  private void open(WebTtyBusMessage who, UUID ws, Role role, WebTtyFrame f) {
    ServerConn server = edge.registered(ws, f.getServerId());
    if (server == null || server.closed) {
      fanout.replyTo(who, Frames.refused("", WebTtyReason.WEBTTY_REASON_SERVER_OFFLINE));
      return;
    }
    // revocation was checked by the edge (it holds the whole token) just before it sent this OPEN
    if (!role.atLeast(Role.MEMBER)) {
      audit
          .event(AuditAction.TERMINAL_REFUSED)
          .workspace(ws)
          .actor(AuditActor.member(who.getSubject()))
          .target("machine", f.getServerId())
          .denied("role")
          .emit();
      fanout.replyTo(who, Frames.error("", WebTtyReason.WEBTTY_REASON_FORBIDDEN));
      return;
    }
    String id = ulid.next();
    var opener =
        Participant.opener(
            who.getParticipantId(), who.getSubject(), role, who.getTokenId(), who.getOrigin());
    Session s =
        new Session(
            new SessionModel(
                id, ws, server.serverId, server.policy, opener, clock.millis(), f.getSize()),
            server);
    sessions.put(id, s);
    server.sessions.add(id);
    s.timer =
        vertx.setTimer(
            settings.handshakeTimeout().toMillis(),
            t -> {
              s.timer = -1;
              if (s.model.phase().opening()) {
                endSession(s, WebTtyReason.WEBTTY_REASON_HANDSHAKE_TIMEOUT, null);
              }
            });
    bus.subscribe(BusNames.webttySession(id), this::onHomeMessage)
        .onSuccess(
            sub -> {
              if (s.model.phase() == Phase.ENDED) {
                sub.unsubscribe();
                return;
              }
              s.channel = sub;
              server.write(
                  WebTtyFrame.newBuilder()
                      .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SESSION_START)
                      .setSessionId(id)
                      .setServerId(server.serverId)
                      .setOpenedBy(s.model.openedBy())
                      .setSize(f.getSize())
                      .build());
            })
        .onFailure(e -> endSession(s, WebTtyReason.WEBTTY_REASON_BUS_UNAVAILABLE, null));
  }

  private void participantFrame(Session s, Participant p, WebTtyFrame f) {
    SessionModel m = s.model;
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_CLIENT_PROOF -> {
        if (carriedOut(
            s,
            p,
            m.clientProof(
                p.id(),
                f.getGrantsList(),
                f.getKeyId(),
                f.getPublicKey(),
                f.getKeyContext(),
                f.getClientProof()))) {
          proven(s, f);
        }
      }
      case WEBTTY_FRAME_TYPE_DATA -> {
        if (ServerLinkGrace.awaitsServer(s)) {
          metrics.dropped("server_away"); // nobody to take it, and not numbered or recorded
        } else if (carriedOut(
            s, p, m.stdin(p.id(), f.getSealed().getPayloadKeyId(), f.getSequence()))) {
          s.tookStdin(p.keyIdHex(), f.getSequence());
          WebTtyFrame out = fanout.stamp(s, f);
          fanout.record(
              s,
              Fanout.event(out, RecordedKind.RECORDED_KIND_DATA)
                  .setStream(TtyStream.TTY_STREAM_STDIN)
                  .setSealed(f.getSealed())
                  .build());
          s.server.write(out);
          metrics.forwarded("stdin");
        }
      }
      case WEBTTY_FRAME_TYPE_RESIZE -> {
        if (carriedOut(s, p, m.resize(p.id(), f.getSize()))) {
          WebTtyFrame out = fanout.stamp(s, f);
          RecordedEvent.Builder resized =
              Fanout.event(out, RecordedKind.RECORDED_KIND_RESIZE).setSize(f.getSize());
          if (f.hasSealed()) {
            resized.setSealed(
                f.getSealed()); // the daemon applies only this (input key, counted with stdin)
          }
          fanout.record(s, resized.build());
          s.server.write(out);
          fanout.sendToAll(s, out);
        }
      }
      case WEBTTY_FRAME_TYPE_CONTROL_REQUEST -> {
        if (carriedOut(s, p, m.requestControl(p.id()))) {
          fanout.sendToAll(
              s,
              WebTtyFrame.newBuilder()
                  .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST)
                  .setSessionId(s.id())
                  .setParticipantId(p.id())
                  .build());
        }
      }
      case WEBTTY_FRAME_TYPE_CONTROL_GIVE ->
          controlChanged(s, p, m.giveControl(p.id(), f.getParticipantId()));
      case WEBTTY_FRAME_TYPE_CONTROL_TAKE -> controlChanged(s, p, m.takeControl(p.id()));
      case WEBTTY_FRAME_TYPE_SHARE -> {
        if (carriedOut(s, p, m.share(p.id()))) {
          s.server.write(
              WebTtyFrame.newBuilder()
                  .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SHARE)
                  .setSessionId(s.id())
                  .setParticipantId(p.id())
                  .setShareRequest(f.getShareRequest())
                  .build());
          metrics.forwarded("share");
        }
      }
      default -> rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_UNEXPECTED);
    }
  }

  /**
   * Carries out a refusal (REFUSED, the participant stays) or a rejection (ERROR, the participant
   * is removed); true when the model accepted and the caller goes on.
   */
  private boolean carriedOut(Session s, Participant p, Decision d) {
    switch (d) {
      case Decision.Refused r -> {
        if (r.reason() != WebTtyReason.WEBTTY_REASON_NOT_ALLOWED) {
          metrics.rejected(CLIENT, wire(r.reason()));
        }
        fanout.sendTo(p, Frames.refused(s.id(), r.reason()));
        return false;
      }
      case Decision.Rejected r -> {
        rejectParticipant(s, p, r.reason());
        return false;
      }
      case Decision.Ignored i -> {
        return false;
      }
      default -> {
        return true;
      }
    }
  }

  /** The opener's proof was accepted: the recording row is created and the server gets it. */
  private void proven(Session s, WebTtyFrame f) {
    fanout.createRecording(s, f.getClientProof());
    s.stored = true;
    s.server.write(f);
  }

  private void controlChanged(Session s, Participant p, Decision d) {
    if (!carriedOut(s, p, d) || !(d instanceof Decision.ControlChanged c)) {
      return;
    }
    fanout.sendToAll(
        s,
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED)
            .setSessionId(s.id())
            .setParticipantId(c.to().id())
            .setRole(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER)
            .build());
    tellServerControl(s, c.to());
    sessionEvent(AuditAction.TERMINAL_CONTROL_CHANGED, s, c.by().subject())
        .meta("controller", c.to().subject())
        .success()
        .emit();
  }

  /**
   * Tells the server who controls now ({@code to}, or nobody): the daemon retires the previous
   * input key and wraps a fresh one for the new controller's key (v2 split keys).
   */
  void tellServerControl(Session s, Participant to) {
    s.server.write(Frames.controlForServer(s.id(), to));
  }

  private void rejectParticipant(Session s, Participant p, WebTtyReason reason) {
    metrics.rejected(CLIENT, wire(reason));
    sessionEvent(AuditAction.TERMINAL_REFUSED, s, p.subject()).denied(wire(reason)).emit();
    var left = s.model.leave(p.id());
    s.left(p);
    fanout.sendTo(p, Frames.error(s.id(), reason));
    left.ifPresent(d -> afterLeave(s, d));
  }

  void removeParticipant(Session s, Participant p, WebTtyReason reason) {
    // a dropped link may come back (failover): its control waits for its key, the daemon not told
    var left = s.model.leave(p.id(), reason == WebTtyReason.WEBTTY_REASON_DISCONNECTED);
    if (left.isEmpty()) {
      return;
    }
    s.left(p);
    if (reason == WebTtyReason.WEBTTY_REASON_REVOKED) {
      fanout.sendTo(p, Frames.error(s.id(), WebTtyReason.WEBTTY_REASON_REVOKED));
    }
    fanout.sendToAll(
        s,
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT)
            .setSessionId(s.id())
            .setParticipantId(p.id())
            .setReason(wire(reason))
            .build());
    sessionEvent(AuditAction.TERMINAL_LEFT, s, p.subject())
        .meta("reason", wire(reason))
        .success()
        .emit();
    afterLeave(s, left.get());
  }

  private void afterLeave(Session s, Departure d) {
    if (d.controlDropped()) {
      tellServerControl(s, null); // nobody types until control is given again
    }
    if (d.aftermath() == Aftermath.END) {
      endSession(s, WebTtyReason.WEBTTY_REASON_CLIENT_GONE, null);
    } else if (d.aftermath() == Aftermath.AWAIT_OPENER && s.timer < 0) {
      // detached: the shell keeps running for the grace period, waiting for ATTACH
      s.timer =
          vertx.setTimer(
              settings.detachGrace().toMillis(),
              t -> {
                s.timer = -1;
                if (!s.model.openerPresent()) {
                  endSession(s, WebTtyReason.WEBTTY_REASON_DETACHED_TIMEOUT, null);
                }
              });
    }
  }

  void cancelTimer(Session s) {
    if (s.timer >= 0) {
      vertx.cancelTimer(s.timer);
      s.timer = -1;
    }
  }

  // ---------------------------------------------------------------- the server's frames

  /** A frame from a registered server about one of its sessions (the edge checked its envelope). */
  void onServerFrame(ServerConn conn, WebTtyFrame f) {
    if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUME) {
      resume.onResume(conn, f);
      return;
    }
    serverFrames.onServerFrame(conn, f);
  }

  Session session(String id) {
    return sessions.get(id);
  }

  /** The server's connection closed: live sessions wait for it or end ({@link ServerLinkGrace}). */
  void serverGone(ServerConn conn, boolean awaitServer, WebTtyReason why) {
    serverGrace.serverGone(conn, awaitServer, why);
  }

  // ---------------------------------------------------------------- session end

  void endSession(Session s, WebTtyReason reason, WebTtyFrame exit) {
    finish(s, reason, exit, true);
  }

  /** Another instance took {@code s} over: it leaves here, not ended in store or audit trail. */
  void release(Session s, WebTtyReason reason) {
    finish(s, reason, null, false, true);
  }

  /**
   * Another instance announced it took over a session that waits here for its server
   * (docs/webtty.md, "A home's death"): it leaves here at once, not ended, and quietly: the edges
   * move its participants ({@code home_moved}) and their re-joins must find the new home.
   */
  void movedAway(String sessionId, String newHome) {
    Session s = sessions.get(sessionId);
    if (s != null && !newHome.equals(instanceId) && ServerLinkGrace.awaitsServer(s)) {
      finish(s, WebTtyReason.WEBTTY_REASON_HOME_MOVED, null, false, false);
    }
  }

  private void finish(Session s, WebTtyReason reason, WebTtyFrame exit, boolean ends) {
    finish(s, reason, exit, ends, true);
  }

  private void finish(
      Session s, WebTtyReason reason, WebTtyFrame exit, boolean ends, boolean tell) {
    Phase was = s.model.end();
    if (was == Phase.ENDED) {
      return;
    }
    cancelTimer(s);
    serverGrace.cancel(s);
    sessions.remove(s.id());
    s.server.sessions.remove(s.id());
    if (was == Phase.LIVE) {
      metrics.liveSessions.decrementAndGet();
    }
    metrics.sessionsEnded(wire(reason));
    if (exit != null) {
      fanout.sendToAll(s, exit);
    } else if (tell) {
      WebTtyFrame close =
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
              .setSessionId(s.id())
              .setReason(wire(reason))
              .build();
      fanout.sendToAll(s, close);
      s.server.write(close);
    }
    UUID ws = s.model.workspaceId();
    if (s.channel != null) {
      s.channel.unsubscribe();
    }
    if (!ends) {
      return;
    }
    if (s.stored) {
      writer.endSession(
          ws, s.id(), clock.millis(), wire(reason), exit == null ? null : exit.getExitStatus());
    }
    var ev =
        audit
            .event(AuditAction.TERMINAL_CLOSED)
            .workspace(ws)
            .actor(AuditActor.member(s.model.openedBy()))
            .target("session", s.id())
            .meta("reason", wire(reason));
    if (exit != null) {
      ev.meta("exit_status", Integer.toString(exit.getExitStatus()));
    }
    ev.success().emit();
  }

  /** An audit event about session {@code s} by {@code subject}. */
  AuditEventBuilder sessionEvent(AuditAction a, Session s, String subject) {
    return audit
        .event(a)
        .workspace(s.model.workspaceId())
        .actor(AuditActor.member(subject))
        .target("session", s.id());
  }

  private static String wire(WebTtyReason reason) {
    return WebTtyReasons.wire(reason);
  }
}
