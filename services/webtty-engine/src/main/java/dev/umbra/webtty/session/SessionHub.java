package dev.umbra.webtty.session;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.kit.http.WsMessages;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.revocation.RevocationList;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.Delivery;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.KeyGrant;
import dev.umbra.proto.webtty.Participant;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.recording.RecordingWriter;
import dev.umbra.webtty.recording.StoredEvent;
import dev.umbra.webtty.routing.BusOutbox;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's session logic (docs/webtty.md). Two roles in one class, both confined to the
 * verticle's event loop:
 *
 * <ul>
 *   <li><b>edge</b>: holds client connections; checks each frame's envelope, then sends it to the
 *       session's home (directly when local, else over the bus) and delivers what the home sends
 *       back.
 *   <li><b>home</b>: the instance holding the server's connection is the single authority of
 *       each of its sessions: handshake state, participants, controller, the gapless event
 *       sequence, recording, and fan-out (to local connections directly, to other instances
 *       through {@code umbra.webtty.inst.<instance>}).
 * </ul>
 *
 * Bus channels: {@code umbra.webtty.srv.<workspace>.<server>} (OPEN towards the server's home),
 * {@code umbra.webtty.sess.<session>} (participants' frames towards the home),
 * {@code umbra.webtty.inst.<instance>} (deliveries towards an instance's participants),
 * and the service's revocations (the kit's {@code RevocationList}).
 */
public final class SessionHub {
  private static final Logger log = LoggerFactory.getLogger(SessionHub.class);
  private static final HexFormat HEX = HexFormat.of();
  private static final String CLIENT = "client";
  private static final String SERVER = "server";

  /** Settings of the hub (from env, see WebTtyService). */
  public record Settings(Duration handshakeTimeout, Duration detachGrace, Duration revocationMemory) {}

  private final Vertx vertx;
  private final Bus bus;
  private final Clock clock;
  private final EngineMetrics metrics;
  private final AuditEmitter audit;
  private final RecordingWriter writer;
  private final BusOutbox outbox;
  private final Settings settings;
  private final Ulid ulid;
  private final String instanceId;
  private final Map<String, ServerConn> servers = new HashMap<>();
  private final Map<String, Session> sessions = new HashMap<>();
  private final Map<String, ClientConn> clients = new HashMap<>();
  private RevocationList revocations;
  private final Set<ServerConn> serverConns = new LinkedHashSet<>();
  private final SecureRandom random = new SecureRandom();
  private long pressureTimer = -1;

  public SessionHub(Vertx vertx, Bus bus, Clock clock, EngineMetrics metrics, AuditEmitter audit,
      RecordingWriter writer, Settings settings) {
    this.vertx = vertx;
    this.bus = bus;
    this.clock = clock;
    this.metrics = metrics;
    this.audit = audit;
    this.writer = writer;
    this.settings = settings;
    this.outbox = new BusOutbox(bus, metrics);
    this.ulid = new Ulid(clock, random);
    this.instanceId = ulid.next();
    outbox.onDrain(this::maybeResume);
    writer.onResume(this::maybeResume);
  }

  public String instanceId() {
    return instanceId;
  }

  private static String instChannel(String instance) {
    return BusNames.webttyInstance(instance);
  }

  private static String srvChannel(UUID ws, String serverId) {
    return BusNames.webttyServer(ws, serverId);
  }

  private static String sessChannel(String sessionId) {
    return BusNames.webttySession(sessionId);
  }

  /** Subscribes this instance's channels and listens to the service's revocations; call once at start. */
  public Future<Void> start(RevocationList revocations) {
    pressureTimer = vertx.setPeriodic(50, t -> maybeResume());
    this.revocations = revocations;
    revocations.onRevoked(this::onRevocation);
    return bus.subscribe(instChannel(instanceId), this::onDeliveries)
        .mapEmpty();
  }

  public void stop() {
    if (pressureTimer >= 0) {
      vertx.cancelTimer(pressureTimer);
    }
    for (ServerConn s : new ArrayList<>(servers.values())) {
      s.ws.close((short) 1001, wire(WebTtyReason.WEBTTY_REASON_GOING_AWAY));
    }
    for (ClientConn c : new ArrayList<>(clients.values())) {
      c.ws.close((short) 1001, wire(WebTtyReason.WEBTTY_REASON_GOING_AWAY));
    }
  }

  // ---------------------------------------------------------------- revocations

  /**
   * True when a revocation voids the token (the kit's list, which fails closed while it is not
   * current). Devices are matched through the token's {@code did} claim (a WebTTY key id is not a
   * device id).
   */
  public boolean isRevoked(SessionClaims c) {
    return revocations == null || revocations.isRevoked(c);
  }

  /**
   * Ends what the revoked party holds on this instance: its server connections, its client
   * connections at this edge (each closes after an ERROR {@code revoked}, and the home hears it
   * leave), and, in sessions homed here, the participants of a revoked member or machine (the
   * session ends when it is the opener). Token, device and keyset revocations are matched at the
   * edge, which holds the whole token.
   */
  public void onRevocation(Revoked r) {
    for (ServerConn s : new ArrayList<>(serverConns)) {
      if (r.endsLive(s.claims)) {
        closeServer(s, WebTtyReason.WEBTTY_REASON_REVOKED);
      }
    }
    for (Session s : new ArrayList<>(sessions.values())) {
      if (!s.workspaceId.equals(r.workspaceId())) {
        continue;
      }
      for (Session.Part p : new ArrayList<>(s.participants.values())) {
        // the home does not know when the participant's token was issued: count it as before (fail closed)
        if (!r.voidsSubject(s.workspaceId, SubjectKind.MEMBER, p.subject, Instant.EPOCH)) {
          continue;
        }
        if (p.subject.equals(s.openedBy)) {
          endSession(s, WebTtyReason.WEBTTY_REASON_REVOKED, null);
          break;
        }
        removeParticipant(s, p, WebTtyReason.WEBTTY_REASON_REVOKED);
      }
    }
    for (ClientConn c : new ArrayList<>(clients.values())) {
      if (r.endsLive(c.claims)) {
        writeClient(c, error(c.sessionId == null ? "" : c.sessionId, WebTtyReason.WEBTTY_REASON_REVOKED));
      }
    }
  }

  // ---------------------------------------------------------------- server side (home)

  /** A verified server (machine token) connected. */
  public void acceptServer(ServerWebSocket ws, SessionClaims claims) {
    ServerConn conn = new ServerConn(ws, claims);
    serverConns.add(conn); // registered or not: a revocation must reach it
    metrics.connections.incrementAndGet();
    ws.binaryMessageHandler(buf -> onServerMessage(conn, buf));
    ws.textMessageHandler(t -> rejectServer(conn, null, WebTtyReason.WEBTTY_REASON_TEXT_FRAME));
    ws.closeHandler(v -> onServerClosed(conn));
    ws.exceptionHandler(WebSockets.closingTooBig(ws, e -> countTooBig(SERVER, e)));
  }

  /** A frame over the decoder's limit (4x ours): closed 1009 by the kit, counted here as oversized. */
  private void countTooBig(String side, Throwable e) {
    if (WebSockets.isTooBig(e)) {
      metrics.rejected(side, "oversized");
    }
  }

  private void onServerMessage(ServerConn conn, Buffer buf) {
    if (conn.closed) {
      return;
    }
    if (buf.length() > WebTtyWire.MAX_FRAME_BYTES) {
      rejectServer(conn, null, WebTtyReason.WEBTTY_REASON_OVERSIZED);
      return;
    }
    WebTtyFrame f;
    try {
      f = WsMessages.parse(WebTtyFrame.parser(), buf); // in place: the ciphertext is a view, not a copy
    } catch (InvalidProtocolBufferException e) {
      rejectServer(conn, null, WebTtyReason.WEBTTY_REASON_TRUNCATED);
      return;
    }
    Optional<WebTtyReason> problem = WebTtyWire.problem(f, true);
    if (problem.isPresent()) {
      rejectServer(conn, f, problem.get());
      return;
    }
    if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER) {
      register(conn, f);
      return;
    }
    if (!conn.registered()) {
      rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_NOT_REGISTERED);
      return;
    }
    Session s = sessions.get(f.getSessionId());
    if (s == null || s.server != conn) {
      // a session that ended meanwhile: drop quietly (counted), the server learns from CLOSE
      metrics.dropped("unknown_session");
      return;
    }
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_SERVER_HELLO -> {
        if (s.state != Session.State.AWAIT_HELLO) {
          rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_UNEXPECTED);
          return;
        }
        s.serverHello = f.getServerHello();
        s.state = Session.State.AWAIT_PROOF;
        Session.Part opener = owner(s);
        // the opener learns its participant id here (it gets no JOINED), to recognise control changes naming it
        sendTo(s, opener, f.toBuilder().setServerId(s.serverId)
            .setParticipantId(opener == null ? "" : opener.id).build());
      }
      case WEBTTY_FRAME_TYPE_READY -> {
        if (s.state != Session.State.AWAIT_READY) {
          rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_UNEXPECTED);
          return;
        }
        s.state = Session.State.LIVE;
        cancelTimer(s);
        metrics.liveSessions.incrementAndGet();
        metrics.sessionsOpened();
        sendToAll(s, f);
        audit.event(AuditAction.TERMINAL_OPENED).workspace(s.workspaceId).actor(AuditActor.member(s.openedBy))
            .target("session", s.id).meta("server_id", s.serverId)
            .meta("recording", Boolean.toString(s.policy.getRecording())).success().emit();
      }
      case WEBTTY_FRAME_TYPE_DATA -> {
        if (s.state != Session.State.LIVE) {
          rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_NOT_READY);
          return;
        }
        if (!f.getSealed().getPayloadKeyId().equals(s.payloadKeyId)) {
          rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_WRONG_KEY_ID);
          return;
        }
        WebTtyFrame out = stamp(s, f);
        record(s, RecordedEvent.newBuilder().setSequence(out.getSequence()).setTimeUnixMs(out.getTimeUnixMs())
            .setKind(RecordedKind.RECORDED_KIND_DATA).setStream(f.getStream()).setSealed(f.getSealed()).build());
        sendToAll(s, out);
        metrics.forwarded("data");
        checkPressure(conn);
      }
      case WEBTTY_FRAME_TYPE_EXIT -> {
        WebTtyFrame out = stamp(s, f);
        record(s, RecordedEvent.newBuilder().setSequence(out.getSequence()).setTimeUnixMs(out.getTimeUnixMs())
            .setKind(RecordedKind.RECORDED_KIND_EXIT).setExitStatus(f.getExitStatus()).build());
        endSession(s, WebTtyReason.WEBTTY_REASON_EXIT, out);
      }
      case WEBTTY_FRAME_TYPE_INPUT_KEY -> {
        if (s.state != Session.State.LIVE) {
          rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_NOT_READY);
          return;
        }
        // a control handover's fresh input key: recorded (whoever holds it can read that stdin in an
        // export) and handed to the participant it names; the grant is public, signed by the daemon
        WebTtyFrame out = stamp(s, f);
        record(s, RecordedEvent.newBuilder().setSequence(out.getSequence()).setTimeUnixMs(out.getTimeUnixMs())
            .setKind(RecordedKind.RECORDED_KIND_INPUT_KEY).setInputKeyGrant(f.getInputKeyGrant()).build());
        Session.Part to = s.participants.get(f.getParticipantId());
        if (to != null) {
          sendTo(s, to, out);
        }
        metrics.forwarded("input_key");
      }
      case WEBTTY_FRAME_TYPE_OUTPUT_KEY -> {
        if (s.state != Session.State.LIVE) {
          rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_NOT_READY);
          return;
        }
        // a share: a fresh output key under a key context with added recipients. The engine cannot
        // verify the signed document (clients do, against the pinned server key); it takes the
        // visible grants to know the new output key id and who may JOIN from now on
        ByteString newKey = null;
        java.util.Set<String> recipients = new java.util.HashSet<>();
        for (KeyGrant g : f.getGrantsList()) {
          if (!"output".equals(g.getKeyRole()) || (newKey != null && !newKey.equals(g.getPayloadKeyId()))) {
            rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_MALFORMED);
            return;
          }
          newKey = g.getPayloadKeyId();
          recipients.add(HEX.formatHex(g.getRecipientKeyId().toByteArray()));
        }
        WebTtyFrame out = stamp(s, f);
        record(s, RecordedEvent.newBuilder().setSequence(out.getSequence()).setTimeUnixMs(out.getTimeUnixMs())
            .setKind(RecordedKind.RECORDED_KIND_OUTPUT_KEY).setOutputKeyEpoch(f.getOutputKeyEpoch()).build());
        s.payloadKeyId = newKey;
        s.grantKeyIds.addAll(recipients);
        s.outputKeyEpoch = f.getOutputKeyEpoch();
        writer.outputRecipients(s.workspaceId, s.id, recipients);
        sendToAll(s, out);
        metrics.forwarded("output_key");
      }
      case WEBTTY_FRAME_TYPE_REFUSED -> {
        // the daemon refused a SHARE: only the participant who sent it hears why
        Session.Part to = s.participants.get(f.getParticipantId());
        if (to != null) {
          sendTo(s, to, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
              .setSessionId(s.id).setReason(f.getReason()).build());
        }
      }
      // a reason the table does not name (a newer or foreign daemon) ends the session as server_closed
      case WEBTTY_FRAME_TYPE_CLOSE -> endSession(s, WebTtyReasons.parse(f.getReason()).orElse(WebTtyReason.WEBTTY_REASON_SERVER_CLOSED), null);
      default -> rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_UNKNOWN_TYPE);
    }
  }

  /** An unknown or missing join rule is the strictest one: nobody joins. */
  private static ServerPolicy normalized(ServerPolicy p) {
    if (p.getJoin() == JoinPolicy.JOIN_POLICY_UNSPECIFIED || p.getJoin() == JoinPolicy.UNRECOGNIZED) {
      return p.toBuilder().setJoin(JoinPolicy.JOIN_POLICY_NOBODY).build();
    }
    return p;
  }

  private void register(ServerConn conn, WebTtyFrame f) {
    SessionClaims c = conn.claims;
    if (conn.registered()) {
      // the daemon's verified policy changed (docs/webtty.md, "Server policy"): a second REGISTER
      // of the same server on its own connection replaces the policy for sessions opened from now
      // on; live sessions keep the policy they were opened under
      if (!f.getServerId().equals(conn.serverId) || isRevoked(c)) {
        rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_UNEXPECTED);
        return;
      }
      conn.policy = normalized(f.getPolicy());
      writeServer(conn, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTERED)
          .setServerId(conn.serverId).setPolicy(conn.policy).build());
      return;
    }
    if (!f.getServerId().equals(c.subject())) {
      rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_WRONG_SERVER);
      return;
    }
    if (isRevoked(c)) {
      rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_REVOKED);
      return;
    }
    String key = c.workspaceId() + "|" + f.getServerId();
    ServerConn previous = servers.get(key);
    if (previous != null) {
      closeServer(previous, WebTtyReason.WEBTTY_REASON_REPLACED);
    }
    conn.serverId = f.getServerId();
    conn.policy = normalized(f.getPolicy());
    servers.put(key, conn);
    bus.subscribe(srvChannel(c.workspaceId(), conn.serverId), m -> onHomeMessage(m))
        .onSuccess(sub -> {
          if (conn.closed) {
            sub.unsubscribe();
          } else {
            conn.channel = sub;
            writeServer(conn, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTERED)
                .setServerId(conn.serverId).setPolicy(conn.policy).build());
          }
        })
        .onFailure(e -> closeServer(conn, WebTtyReason.WEBTTY_REASON_BUS_UNAVAILABLE));
  }

  private void rejectServer(ServerConn conn, WebTtyFrame f, WebTtyReason reason) {
    metrics.rejected(SERVER, wire(reason));
    if (f != null && !f.getSessionId().isEmpty()) {
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(conn.claims.workspaceId())
          .actor(AuditActor.machine(conn.claims.subject())).target("session", f.getSessionId()).denied(wire(reason)).emit();
    }
    closeServer(conn, reason);
  }

  private void closeServer(ServerConn conn, WebTtyReason reason) {
    if (conn.closed) {
      return;
    }
    writeServer(conn, error("", reason));
    conn.ws.close(reason == WebTtyReason.WEBTTY_REASON_OVERSIZED ? WebSockets.CLOSE_TOO_BIG : (short) 1008, wire(reason));
    onServerClosed(conn);
  }

  private void onServerClosed(ServerConn conn) {
    if (conn.closed) {
      return;
    }
    conn.closed = true;
    serverConns.remove(conn);
    metrics.connections.decrementAndGet();
    if (conn.registered()) {
      servers.remove(conn.claims.workspaceId() + "|" + conn.serverId, conn);
    }
    if (conn.channel != null) {
      conn.channel.unsubscribe();
    }
    for (String id : new ArrayList<>(conn.sessions)) {
      Session s = sessions.get(id);
      if (s != null) {
        endSession(s, WebTtyReason.WEBTTY_REASON_SERVER_GONE, null);
      }
    }
  }

  private void writeServer(ServerConn conn, WebTtyFrame f) {
    if (!conn.closed) {
      conn.ws.writeBinaryMessage(WsMessages.of(f));
    }
  }

  // ---------------------------------------------------------------- client side (edge)

  /** A verified client (member token) connected. */
  public void acceptClient(ServerWebSocket ws, SessionClaims claims) {
    ClientConn conn = new ClientConn(ws, claims, ulid.next());
    clients.put(conn.participantId, conn);
    metrics.connections.incrementAndGet();
    ws.setWriteQueueMaxSize(WebTtyWire.WRITE_QUEUE_BYTES);
    ws.binaryMessageHandler(buf -> onClientMessage(conn, buf));
    ws.drainHandler(v -> maybeResume());
    ws.textMessageHandler(t -> rejectClient(conn, WebTtyReason.WEBTTY_REASON_TEXT_FRAME));
    ws.closeHandler(v -> onClientClosed(conn));
    ws.exceptionHandler(WebSockets.closingTooBig(ws, e -> countTooBig(CLIENT, e)));
  }

  private void onClientMessage(ClientConn conn, Buffer buf) {
    if (conn.closed) {
      return;
    }
    if (buf.length() > WebTtyWire.MAX_FRAME_BYTES) {
      rejectClient(conn, WebTtyReason.WEBTTY_REASON_OVERSIZED);
      return;
    }
    WebTtyFrame f;
    try {
      f = WsMessages.parse(WebTtyFrame.parser(), buf); // in place: the ciphertext is a view, not a copy
    } catch (InvalidProtocolBufferException e) {
      rejectClient(conn, WebTtyReason.WEBTTY_REASON_TRUNCATED);
      return;
    }
    Optional<WebTtyReason> problem = WebTtyWire.problem(f, false);
    if (problem.isPresent()) {
      rejectClient(conn, problem.get());
      return;
    }
    WebTtyFrameType t = f.getType();
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN) {
      if (conn.sessionId != null) {
        rejectClient(conn, WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION);
        return;
      }
      open(conn, f);
      return;
    }
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN || t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH) {
      if (conn.sessionId != null) {
        rejectClient(conn, WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION);
        return;
      }
      conn.sessionId = f.getSessionId();
      conn.joinPending = true;
      conn.keyIdHex = HEX.formatHex(f.getKeyId().toByteArray());
      if (isRevoked(conn.claims)) {
        writeClient(conn, error(conn.sessionId, WebTtyReason.WEBTTY_REASON_REVOKED));
        return;
      }
    } else if (conn.sessionId == null) {
      rejectClient(conn, WebTtyReason.WEBTTY_REASON_NO_SESSION);
      return;
    } else if (!f.getSessionId().isEmpty() && !f.getSessionId().equals(conn.sessionId)) {
      rejectClient(conn, WebTtyReason.WEBTTY_REASON_WRONG_SESSION);
      return;
    }
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_CLIENT_PROOF) {
      conn.keyIdHex = HEX.formatHex(f.getKeyId().toByteArray());
    }
    toHome(conn, f.getSessionId().isEmpty() ? f.toBuilder().setSessionId(conn.sessionId).build() : f);
  }

  private WebTtyBusMessage homeHeader(ClientConn conn) {
    return WebTtyBusMessage.newBuilder()
        .setOrigin(instanceId)
        .setDirection(BusDirection.BUS_DIRECTION_TO_HOME)
        .setParticipantId(conn.participantId)
        .setWorkspaceId(conn.claims.workspaceId().toString())
        .setSubject(conn.claims.subject())
        .setRole(conn.claims.role().wire())
        .setTokenId(conn.claims.tokenId())
        .build();
  }

  private void open(ClientConn conn, WebTtyFrame f) {
    if (isRevoked(conn.claims)) {
      writeClient(conn, error("", WebTtyReason.WEBTTY_REASON_REVOKED));
      return;
    }
    WebTtyBusMessage header = homeHeader(conn);
    ServerConn local = servers.get(conn.claims.workspaceId() + "|" + f.getServerId());
    if (local != null) {
      onClientFrame(header, f);
      return;
    }
    WebTtyBusMessage msg = header.toBuilder().addFrames(f).build();
    bus.publish(srvChannel(conn.claims.workspaceId(), f.getServerId()), Buffer.buffer(msg.toByteArray()))
        .onComplete(ar -> {
          if (ar.failed()) {
            writeClient(conn, refused("", WebTtyReason.WEBTTY_REASON_BUS_UNAVAILABLE));
          } else if (ar.result() == 0) {
            writeClient(conn, refused("", WebTtyReason.WEBTTY_REASON_SERVER_OFFLINE));
          }
        });
  }

  private void toHome(ClientConn conn, WebTtyFrame f) {
    WebTtyBusMessage header = homeHeader(conn);
    if (sessions.containsKey(f.getSessionId())) {
      onClientFrame(header, f);
      return;
    }
    if (!outbox.offer(sessChannel(f.getSessionId()), header, f)) {
      metrics.dropped("bus_queue_full");
      rejectClient(conn, WebTtyReason.WEBTTY_REASON_SLOW);
    }
  }

  private void rejectClient(ClientConn conn, WebTtyReason reason) {
    metrics.rejected(CLIENT, wire(reason));
    if (conn.sessionId != null) {
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(conn.claims.workspaceId())
          .actor(AuditActor.member(conn.claims.subject())).target("session", conn.sessionId).denied(wire(reason)).emit();
    }
    writeClient(conn, error(conn.sessionId, reason));
  }

  private void onClientClosed(ClientConn conn) {
    if (conn.closed) {
      return;
    }
    conn.closed = true;
    metrics.connections.decrementAndGet();
    clients.remove(conn.participantId, conn);
    if (conn.sessionId != null) {
      toHome(conn, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
          .setSessionId(conn.sessionId).setReason(wire(WebTtyReason.WEBTTY_REASON_DISCONNECTED)).build());
    }
  }

  /** Writes to a local client; after EXIT, CLOSE or ERROR the connection is closed. */
  private void writeClient(ClientConn conn, WebTtyFrame f) {
    writeClient(conn, new Serialized(f));
  }

  /**
   * A frame and its bytes, serialized once however many participants it goes to (each DATA frame
   * carries up to 64 KiB of ciphertext).
   */
  private static final class Serialized {
    final WebTtyFrame frame;
    private byte[] bytes;

    Serialized(WebTtyFrame frame) {
      this.frame = frame;
    }

    Buffer buffer() {
      if (bytes == null) {
        bytes = frame.toByteArray();
      }
      return WsMessages.wrap(bytes); // a buffer of its own per write, over the one array
    }
  }

  private void writeClient(ClientConn conn, Serialized serialized) {
    WebTtyFrame f = serialized.frame;
    if (conn.closed) {
      return;
    }
    if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED && conn.joinPending) {
      // the JOIN/ATTACH was refused: the connection is bound to no session and may try again
      conn.sessionId = null;
      conn.joinPending = false;
    } else if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED) {
      conn.joinPending = false;
    }
    if (conn.sessionId == null && !f.getSessionId().isEmpty() && f.getType() != WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED) {
      conn.sessionId = f.getSessionId();
    }
    conn.ws.writeBinaryMessage(serialized.buffer());
    WebTtyFrameType t = f.getType();
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT || t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR
        || (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE && f.getParticipantId().isEmpty())) {
      String reason = t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR ? f.getReason() : wire(WebTtyReason.WEBTTY_REASON_SESSION_OVER);
      conn.ws.close(t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR ? (short) 1008 : (short) 1000, reason);
      onClientClosedAfterEnd(conn);
    }
  }

  private void onClientClosedAfterEnd(ClientConn conn) {
    if (!conn.closed) {
      conn.closed = true;
      metrics.connections.decrementAndGet();
      clients.remove(conn.participantId, conn);
    }
  }

  /** Deliveries from a home instance to participants here. */
  private void onDeliveries(BusMessage m) {
    WebTtyBusMessage msg;
    try {
      msg = WebTtyBusMessage.parseFrom(m.body().getBytes());
    } catch (InvalidProtocolBufferException e) {
      metrics.dropped("malformed_bus_message");
      return;
    }
    for (Delivery d : msg.getDeliveriesList()) {
      Serialized frame = new Serialized(d.getFrame());
      for (String to : d.getToList()) {
        ClientConn c = clients.get(to);
        if (c != null) {
          writeClient(c, frame);
        } else {
          metrics.dropped("participant_gone");
        }
      }
    }
  }

  // ---------------------------------------------------------------- participants (home)

  /** Frames sent to the home over the bus (OPEN on the server channel, the rest on the session's). */
  private void onHomeMessage(BusMessage m) {
    WebTtyBusMessage msg;
    try {
      msg = WebTtyBusMessage.parseFrom(m.body().getBytes());
    } catch (InvalidProtocolBufferException e) {
      metrics.dropped("malformed_bus_message");
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

  private Session.Part partOf(Session s, WebTtyBusMessage who) {
    return s.participants.get(who.getParticipantId());
  }

  /** Sends a frame to one participant known only by its header (not yet in the session). */
  private void replyTo(WebTtyBusMessage who, WebTtyFrame f) {
    deliver(who.getOrigin(), List.of(who.getParticipantId()), f);
  }

  private void onClientFrame(WebTtyBusMessage who, WebTtyFrame f) {
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
      homeOpen(who, ws, role, f);
      return;
    }
    Session s = sessions.get(f.getSessionId());
    if (s == null) {
      if (f.getType() != WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE) {
        replyTo(who, error(f.getSessionId(), WebTtyReason.WEBTTY_REASON_UNKNOWN_SESSION));
      }
      return;
    }
    if (!s.workspaceId.equals(ws)) {
      // a frame for another workspace's session: refused, counted, never forwarded
      metrics.rejected(CLIENT, "wrong_workspace");
      replyTo(who, error(f.getSessionId(), WebTtyReason.WEBTTY_REASON_UNKNOWN_SESSION));
      return;
    }
    Session.Part p = partOf(s, who);
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_JOIN, WEBTTY_FRAME_TYPE_ATTACH -> join(s, who, role, f);
      case WEBTTY_FRAME_TYPE_CLOSE -> {
        if (p != null) {
          // detached, terminate, disconnected; anything else (or nothing) is a plain leave
          WebTtyReason why = WebTtyReasons.parse(f.getReason())
              .filter(r -> r == WebTtyReason.WEBTTY_REASON_DETACHED || r == WebTtyReason.WEBTTY_REASON_TERMINATE
                  || r == WebTtyReason.WEBTTY_REASON_DISCONNECTED)
              .orElse(WebTtyReason.WEBTTY_REASON_LEFT);
          removeParticipant(s, p, why);
          if (why == WebTtyReason.WEBTTY_REASON_TERMINATE && p.subject.equals(s.openedBy)) {
            endSession(s, WebTtyReason.WEBTTY_REASON_TERMINATED, null);
          }
        }
      }
      default -> {
        if (p == null) {
          replyTo(who, error(f.getSessionId(), WebTtyReason.WEBTTY_REASON_NOT_PARTICIPANT));
          return;
        }
        participantFrame(s, p, f);
      }
    }
  }

  private void homeOpen(WebTtyBusMessage who, UUID ws, Role role, WebTtyFrame f) {
    ServerConn server = servers.get(ws + "|" + f.getServerId());
    if (server == null || server.closed) {
      replyTo(who, refused("", WebTtyReason.WEBTTY_REASON_SERVER_OFFLINE));
      return;
    }
    // revocation was checked by the edge, which holds the whole token, just before it sent this OPEN
    if (!role.atLeast(Role.MEMBER)) {
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(ws).actor(AuditActor.member(who.getSubject()))
          .target("machine", f.getServerId()).denied("role").emit();
      replyTo(who, error("", WebTtyReason.WEBTTY_REASON_FORBIDDEN));
      return;
    }
    String id = ulid.next();
    Session s = new Session(id, ws, server.serverId, server, who.getSubject(), clock.millis(), f.getSize());
    Session.Part owner = new Session.Part(who.getParticipantId(), who.getSubject(), role, who.getTokenId(),
        who.getOrigin(), "", ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    s.participants.put(owner.id, owner);
    s.controllerId = owner.id;
    sessions.put(id, s);
    server.sessions.add(id);
    s.timer = vertx.setTimer(settings.handshakeTimeout().toMillis(), t -> {
      s.timer = -1;
      if (s.state != Session.State.LIVE && s.state != Session.State.ENDED) {
        endSession(s, WebTtyReason.WEBTTY_REASON_HANDSHAKE_TIMEOUT, null);
      }
    });
    bus.subscribe(sessChannel(id), this::onHomeMessage)
        .onSuccess(sub -> {
          if (s.state == Session.State.ENDED) {
            sub.unsubscribe();
            return;
          }
          s.channel = sub;
          writeServer(server, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SESSION_START)
              .setSessionId(id).setServerId(server.serverId).setOpenedBy(s.openedBy).setSize(f.getSize()).build());
        })
        .onFailure(e -> endSession(s, WebTtyReason.WEBTTY_REASON_BUS_UNAVAILABLE, null));
  }

  private void participantFrame(Session s, Session.Part p, WebTtyFrame f) {
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_CLIENT_PROOF -> {
        if (s.state != Session.State.AWAIT_PROOF || !p.subject.equals(s.openedBy)) {
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_UNEXPECTED);
          return;
        }
        // v2: one output key (granted to every recipient) and one input key (the server's and the
        // opener's); each role's grants must name one key, and the two keys differ
        ByteString keyId = null;
        ByteString inputKeyId = null;
        for (KeyGrant g : f.getGrantsList()) {
          boolean output = "output".equals(g.getKeyRole());
          ByteString known = output ? keyId : inputKeyId;
          if (known != null && !known.equals(g.getPayloadKeyId())) {
            rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_MALFORMED);
            return;
          }
          if (output) {
            keyId = g.getPayloadKeyId();
          } else {
            inputKeyId = g.getPayloadKeyId();
          }
        }
        if (keyId == null || inputKeyId == null || keyId.equals(inputKeyId)) {
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_MALFORMED);
          return;
        }
        String ownKey = HEX.formatHex(f.getKeyId().toByteArray());
        s.grants = List.copyOf(f.getGrantsList());
        for (KeyGrant g : s.grants) {
          if ("output".equals(g.getKeyRole())) {
            // joining needs the output key; an input grant alone (the server's) is not a reason to admit
            s.grantKeyIds.add(HEX.formatHex(g.getRecipientKeyId().toByteArray()));
          }
        }
        if (!s.grantKeyIds.contains(ownKey)) {
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_NO_GRANT);
          return;
        }
        Session.Part owner = new Session.Part(p.id, p.subject, p.role, p.tokenId, p.instance, ownKey, p.participantRole);
        owner.publicKey = f.getPublicKey();
        s.participants.put(p.id, owner);
        s.keyContext = f.getKeyContext();
        s.clientProof = f.getClientProof();
        s.payloadKeyId = keyId;
        s.state = Session.State.AWAIT_READY;
        RecordingHeader header = RecordingHeader.newBuilder()
            .setSessionId(s.id).setWorkspaceId(s.workspaceId.toString()).setServerId(s.serverId)
            .setOpenedBy(s.openedBy).setStartedUnixMs(s.startedMs).setKeyContext(s.keyContext)
            .addAllGrants(s.grants).setInitialSize(s.size).setServerHello(s.serverHello)
            .setClientProof(f.getClientProof()).build();
        writer.createSession(s.workspaceId, s.id, s.serverId, s.openedBy, s.policy.getRecording(), s.startedMs,
            header.toByteArray());
        s.stored = true;
        writeServer(s.server, f);
      }
      case WEBTTY_FRAME_TYPE_DATA -> {
        if (s.state != Session.State.LIVE) {
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_NOT_READY);
          return;
        }
        if (!p.id.equals(s.controllerId)) {
          // stdin from a viewer: refused and counted; the viewer stays connected
          metrics.rejected(CLIENT, "not_controller");
          deliver(p.instance, List.of(p.id), refused(s.id, WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
          return;
        }
        if (f.getSealed().getPayloadKeyId().equals(s.payloadKeyId)) {
          // stdin is never under the output key (every recipient holds that one); the input key
          // changes with control and is the daemon's to check
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_WRONG_KEY_ID);
          return;
        }
        if (f.getSequence() <= p.lastStdinSequence) {
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_REPLAYED);
          return;
        }
        p.lastStdinSequence = f.getSequence();
        WebTtyFrame out = stamp(s, f);
        record(s, RecordedEvent.newBuilder().setSequence(out.getSequence()).setTimeUnixMs(out.getTimeUnixMs())
            .setKind(RecordedKind.RECORDED_KIND_DATA).setStream(TtyStream.TTY_STREAM_STDIN).setSealed(f.getSealed())
            .build());
        writeServer(s.server, out);
        metrics.forwarded("stdin");
      }
      case WEBTTY_FRAME_TYPE_RESIZE -> {
        if (s.state != Session.State.LIVE) {
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_NOT_READY);
          return;
        }
        if (!p.id.equals(s.controllerId)) {
          metrics.rejected(CLIENT, "not_controller");
          deliver(p.instance, List.of(p.id), refused(s.id, WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
          return;
        }
        s.size = f.getSize();
        WebTtyFrame out = stamp(s, f);
        RecordedEvent.Builder resized = RecordedEvent.newBuilder().setSequence(out.getSequence())
            .setTimeUnixMs(out.getTimeUnixMs()).setKind(RecordedKind.RECORDED_KIND_RESIZE).setSize(f.getSize());
        if (f.hasSealed()) {
          resized.setSealed(f.getSealed()); // the daemon applies only this (input key, counted with stdin)
        }
        record(s, resized.build());
        writeServer(s.server, out);
        sendToAll(s, out);
      }
      case WEBTTY_FRAME_TYPE_CONTROL_REQUEST -> {
        if (p.id.equals(s.controllerId)) {
          return;
        }
        sendToAll(s, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST)
            .setSessionId(s.id).setParticipantId(p.id).build());
      }
      case WEBTTY_FRAME_TYPE_CONTROL_GIVE -> {
        boolean mayGive = p.id.equals(s.controllerId) || p.subject.equals(s.openedBy);
        Session.Part target = s.participants.get(f.getParticipantId());
        if (!mayGive) {
          metrics.rejected(CLIENT, "not_controller");
          deliver(p.instance, List.of(p.id), refused(s.id, WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
          return;
        }
        if (target == null || !target.role.atLeast(Role.MEMBER)) {
          deliver(p.instance, List.of(p.id), refused(s.id, WebTtyReason.WEBTTY_REASON_NOT_ALLOWED));
          return;
        }
        setController(s, target, p);
      }
      case WEBTTY_FRAME_TYPE_CONTROL_TAKE -> {
        if (!p.subject.equals(s.openedBy)) {
          metrics.rejected(CLIENT, "not_owner");
          deliver(p.instance, List.of(p.id), refused(s.id, WebTtyReason.WEBTTY_REASON_NOT_OWNER));
          return;
        }
        setController(s, p, p);
      }
      case WEBTTY_FRAME_TYPE_SHARE -> {
        if (s.state != Session.State.LIVE) {
          rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_NOT_READY);
          return;
        }
        // the engine's cheap check (the daemon's is the signature of the opener's key): the opener
        // or the current controller may ask; anyone else is refused here
        if (!p.subject.equals(s.openedBy) && !p.id.equals(s.controllerId)) {
          metrics.rejected(CLIENT, "share_refused_not_controller");
          deliver(p.instance, List.of(p.id), refused(s.id, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_CONTROLLER));
          return;
        }
        writeServer(s.server, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SHARE)
            .setSessionId(s.id).setParticipantId(p.id).setShareRequest(f.getShareRequest()).build());
        metrics.forwarded("share");
      }
      default -> rejectParticipant(s, p, WebTtyReason.WEBTTY_REASON_UNEXPECTED);
    }
  }

  private void setController(Session s, Session.Part to, Session.Part by) {
    Session.Part old = s.controllerId == null ? null : s.participants.get(s.controllerId);
    if (old != null) {
      old.participantRole = ParticipantRole.PARTICIPANT_ROLE_VIEWER;
    }
    to.participantRole = ParticipantRole.PARTICIPANT_ROLE_CONTROLLER;
    s.controllerId = to.id;
    sendToAll(s, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED)
        .setSessionId(s.id).setParticipantId(to.id).setRole(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER).build());
    tellServerControl(s, to);
    audit.event(AuditAction.TERMINAL_CONTROL_CHANGED).workspace(s.workspaceId).actor(AuditActor.member(by.subject))
        .target("session", s.id).meta("controller", to.subject).success().emit();
  }

  /**
   * Tells the server who controls now ({@code to}, or nobody): the daemon retires the previous
   * input key and wraps a fresh one for the new controller's key (v2 split keys).
   */
  private void tellServerControl(Session s, Session.Part to) {
    WebTtyFrame.Builder f = WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED)
        .setSessionId(s.id);
    if (to != null) {
      f.setParticipantId(to.id).setRole(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER).setPublicKey(to.publicKey)
          .setKeyId(ByteString.copyFrom(HEX.parseHex(to.keyIdHex)));
    }
    writeServer(s.server, f.build());
  }

  private void join(Session s, WebTtyBusMessage who, Role role, WebTtyFrame f) {
    boolean attach = f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH;
    String keyHex = HEX.formatHex(f.getKeyId().toByteArray());
    WebTtyReason reason = null;
    if (s.state != Session.State.LIVE) {
      reason = WebTtyReason.WEBTTY_REASON_NOT_LIVE;
    // (revocation was checked by the edge, which holds the whole token, just before it sent this JOIN)
    } else if (attach && !who.getSubject().equals(s.openedBy)) {
      reason = WebTtyReason.WEBTTY_REASON_NOT_OWNER;
    } else if (!attach && !mayJoin(s.policy.getJoin(), role, who.getSubject().equals(s.openedBy))) {
      reason = WebTtyReason.WEBTTY_REASON_POLICY;
    } else if (!s.grantKeyIds.contains(keyHex)) {
      reason = WebTtyReason.WEBTTY_REASON_NO_GRANT;
    } else if (s.participants.containsKey(who.getParticipantId())) {
      reason = WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION;
    }
    if (reason != null) {
      metrics.rejected(CLIENT, wire(reason));
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(s.workspaceId).actor(AuditActor.member(who.getSubject()))
          .target("session", s.id).denied(wire(reason)).emit();
      // REFUSED, not ERROR: the JOIN/ATTACH is refused and the connection stays usable (the edge
      // unbinds it from the session), as docs/webtty.md says; the client may try another session
      replyTo(who, refused(s.id, reason));
      return;
    }
    boolean control = attach && (s.controllerId == null || !s.participants.containsKey(s.controllerId));
    Session.Part p = new Session.Part(who.getParticipantId(), who.getSubject(), role, who.getTokenId(),
        who.getOrigin(), keyHex, control ? ParticipantRole.PARTICIPANT_ROLE_CONTROLLER : ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    p.publicKey = f.getPublicKey();
    cancelTimer(s);
    WebTtyFrame announce = WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_JOINED)
        .setSessionId(s.id).setParticipantId(p.id).setRole(p.participantRole).build();
    sendToAll(s, announce);
    s.participants.put(p.id, p);
    if (control) {
      s.controllerId = p.id;
    }
    WebTtyFrame.Builder joined = WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED)
        .setSessionId(s.id).setServerId(s.serverId).setParticipantId(p.id).setRole(p.participantRole)
        .addAllGrants(s.grants).setKeyContext(s.keyContext).setServerHello(s.serverHello).setClientProof(s.clientProof).setSize(s.size)
        .setSequence(s.nextSequence - 1);
    if (s.outputKeyEpoch != null) {
      // after a share: the joiner reads under the latest output key (its grant is in this document)
      joined.setOutputKeyEpoch(s.outputKeyEpoch);
    }
    for (Session.Part q : s.participants.values()) {
      joined.addParticipants(Participant.newBuilder().setParticipantId(q.id).setRole(q.participantRole));
    }
    sendTo(s, p, joined.build());
    if (control) {
      tellServerControl(s, p);
    }
    audit.event(AuditAction.TERMINAL_JOINED).workspace(s.workspaceId).actor(AuditActor.member(p.subject))
        .target("session", s.id).meta("role", attach ? "owner" : "viewer").success().emit();
  }

  private static boolean mayJoin(JoinPolicy policy, Role role, boolean owner) {
    if (owner) {
      return true;
    }
    return switch (policy) {
      case JOIN_POLICY_GRANTED_MEMBERS -> role.atLeast(Role.VIEWER);
      case JOIN_POLICY_GRANTED_ADMINS -> role.atLeast(Role.ADMIN);
      default -> false;
    };
  }

  private void rejectParticipant(Session s, Session.Part p, WebTtyReason reason) {
    metrics.rejected(CLIENT, wire(reason));
    audit.event(AuditAction.TERMINAL_REFUSED).workspace(s.workspaceId).actor(AuditActor.member(p.subject))
        .target("session", s.id).denied(wire(reason)).emit();
    s.participants.remove(p.id);
    deliver(p.instance, List.of(p.id), error(s.id, reason));
    afterLeave(s, p);
  }

  private void removeParticipant(Session s, Session.Part p, WebTtyReason reason) {
    if (s.participants.remove(p.id) == null) {
      return;
    }
    if (reason == WebTtyReason.WEBTTY_REASON_REVOKED) {
      deliver(p.instance, List.of(p.id), error(s.id, WebTtyReason.WEBTTY_REASON_REVOKED));
    }
    sendToAll(s, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT)
        .setSessionId(s.id).setParticipantId(p.id).setReason(wire(reason)).build());
    audit.event(AuditAction.TERMINAL_LEFT).workspace(s.workspaceId).actor(AuditActor.member(p.subject))
        .target("session", s.id).meta("reason", wire(reason)).success().emit();
    afterLeave(s, p);
  }

  private void afterLeave(Session s, Session.Part p) {
    if (s.state == Session.State.ENDED) {
      return;
    }
    if (p.id.equals(s.controllerId)) {
      s.controllerId = null;
      if (s.state == Session.State.LIVE) {
        tellServerControl(s, null); // nobody types until control is given again
      }
    }
    if (s.state != Session.State.LIVE) {
      if (p.subject.equals(s.openedBy)) {
        endSession(s, WebTtyReason.WEBTTY_REASON_CLIENT_GONE, null);
      }
      return;
    }
    boolean ownerPresent = s.participants.values().stream().anyMatch(q -> q.subject.equals(s.openedBy));
    if (!ownerPresent && s.timer < 0) {
      // detached: the shell keeps running for the grace period, waiting for ATTACH
      s.timer = vertx.setTimer(settings.detachGrace().toMillis(), t -> {
        s.timer = -1;
        boolean back = s.participants.values().stream().anyMatch(q -> q.subject.equals(s.openedBy));
        if (!back) {
          endSession(s, WebTtyReason.WEBTTY_REASON_DETACHED_TIMEOUT, null);
        }
      });
    }
  }

  private void cancelTimer(Session s) {
    if (s.timer >= 0) {
      vertx.cancelTimer(s.timer);
      s.timer = -1;
    }
  }

  // ---------------------------------------------------------------- session end, fan-out, recording

  private void endSession(Session s, WebTtyReason reason, WebTtyFrame exit) {
    if (s.state == Session.State.ENDED) {
      return;
    }
    boolean wasLive = s.state == Session.State.LIVE;
    s.state = Session.State.ENDED;
    cancelTimer(s);
    sessions.remove(s.id);
    s.server.sessions.remove(s.id);
    if (wasLive) {
      metrics.liveSessions.decrementAndGet();
    }
    metrics.sessionsEnded(wire(reason));
    if (exit != null) {
      sendToAll(s, exit);
    } else {
      sendToAll(s, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).setSessionId(s.id)
          .setReason(wire(reason)).build());
      writeServer(s.server, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
          .setSessionId(s.id).setReason(wire(reason)).build());
    }
    if (s.stored) {
      writer.endSession(s.workspaceId, s.id, clock.millis(), wire(reason), exit == null ? null : exit.getExitStatus());
    }
    if (s.channel != null) {
      s.channel.unsubscribe();
    }
    var ev = audit.event(AuditAction.TERMINAL_CLOSED).workspace(s.workspaceId).actor(AuditActor.member(s.openedBy))
        .target("session", s.id).meta("reason", wire(reason));
    if (exit != null) {
      ev.meta("exit_status", Integer.toString(exit.getExitStatus()));
    }
    ev.success().emit();
  }

  private WebTtyFrame stamp(Session s, WebTtyFrame f) {
    return f.toBuilder().setSessionId(s.id).setSequence(s.nextSeq()).setTimeUnixMs(clock.millis()).build();
  }

  private void record(Session s, RecordedEvent e) {
    // record_stdin absent (an older daemon) keeps stdin recorded, as before the field existed
    boolean skipStdin = s.policy.hasRecordStdin() && !s.policy.getRecordStdin()
        && e.getKind() == RecordedKind.RECORDED_KIND_DATA && e.getStream() == TtyStream.TTY_STREAM_STDIN;
    if (s.policy.getRecording() && !skipStdin) {
      writer.record(new StoredEvent(s.workspaceId, s.id, e));
    }
  }

  private Session.Part owner(Session s) {
    for (Session.Part p : s.participants.values()) {
      if (p.subject.equals(s.openedBy)) {
        return p;
      }
    }
    return null;
  }

  private void sendTo(Session s, Session.Part p, WebTtyFrame f) {
    if (p != null) {
      deliver(p.instance, List.of(p.id), f);
    }
  }

  private void sendToAll(Session s, WebTtyFrame f) {
    Map<String, List<String>> byInstance = new TreeMap<>();
    for (Session.Part p : s.participants.values()) {
      byInstance.computeIfAbsent(p.instance, k -> new ArrayList<>()).add(p.id);
    }
    for (var e : byInstance.entrySet()) {
      deliver(e.getKey(), e.getValue(), f);
    }
  }

  private void deliver(String instance, List<String> to, WebTtyFrame f) {
    if (instance.equals(instanceId)) {
      Serialized frame = new Serialized(f);
      for (String id : to) {
        ClientConn c = clients.get(id);
        if (c != null) {
          writeClient(c, frame);
        }
      }
      return;
    }
    WebTtyBusMessage header = WebTtyBusMessage.newBuilder().setOrigin(instanceId)
        .setDirection(BusDirection.BUS_DIRECTION_TO_PARTICIPANTS).build();
    if (!outbox.offer(instChannel(instance), header, Delivery.newBuilder().addAllTo(to).setFrame(f).build())) {
      metrics.dropped("bus_queue_full");
    }
  }

  private boolean pressured() {
    if (writer.saturated() || outbox.pressured()) {
      return true;
    }
    for (ClientConn c : clients.values()) {
      // isClosed(): the socket can close before our close handler has marked the connection
      if (!c.closed && !c.ws.isClosed() && c.ws.writeQueueFull()) {
        return true;
      }
    }
    return false;
  }

  /** Backpressure: stop reading a server while recording, bus or a local client cannot keep up. */
  private void checkPressure(ServerConn conn) {
    if (!conn.paused && pressured()) {
      conn.paused = true;
      conn.ws.pause();
    }
  }

  private void maybeResume() {
    if (pressured()) {
      return;
    }
    for (ServerConn s : servers.values()) {
      if (s.paused && !s.closed) {
        s.paused = false;
        s.ws.resume();
      }
    }
  }

  private static WebTtyFrame error(String sessionId, WebTtyReason reason) {
    return WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR)
        .setSessionId(sessionId == null ? "" : sessionId).setReason(wire(reason)).build();
  }

  private static WebTtyFrame refused(String sessionId, WebTtyReason reason) {
    return WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
        .setSessionId(sessionId == null ? "" : sessionId).setReason(wire(reason)).build();
  }

  private static String wire(WebTtyReason reason) {
    return WebTtyReasons.wire(reason);
  }

  /** Live sessions homed on this instance (tests, health). */
  public int homedSessions() {
    return sessions.size();
  }

  /** Writes nothing: the ids of live sessions homed here for a workspace (tests). */
  public List<String> liveSessionIds(UUID ws) {
    List<String> out = new ArrayList<>();
    for (Session s : sessions.values()) {
      if (s.workspaceId.equals(ws)) {
        out.add(s.id);
      }
    }
    return out;
  }
}
