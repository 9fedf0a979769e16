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
import dev.umbra.kit.http.WebSockets;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.revocation.RevocationList;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.Wire;
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
    return "umbra.webtty.inst." + instance;
  }

  private static String srvChannel(UUID ws, String serverId) {
    return "umbra.webtty.srv." + ws + "." + serverId;
  }

  private static String sessChannel(String sessionId) {
    return "umbra.webtty.sess." + sessionId;
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
      s.ws.close((short) 1001, "going_away");
    }
    for (ClientConn c : new ArrayList<>(clients.values())) {
      c.ws.close((short) 1001, "going_away");
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
      if (r.voids(s.claims)) {
        closeServer(s, "revoked");
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
          endSession(s, "revoked", null);
          break;
        }
        removeParticipant(s, p, "revoked");
      }
    }
    for (ClientConn c : new ArrayList<>(clients.values())) {
      if (r.voids(c.claims)) {
        writeClient(c, error(c.sessionId == null ? "" : c.sessionId, "revoked"));
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
    ws.textMessageHandler(t -> rejectServer(conn, null, "text_frame"));
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
      rejectServer(conn, null, "oversized");
      return;
    }
    WebTtyFrame f;
    try {
      f = Wire.parseAliased(WebTtyFrame.parser(), buf.getBytes()); // the ciphertext is not copied again
    } catch (InvalidProtocolBufferException e) {
      rejectServer(conn, null, "truncated");
      return;
    }
    Optional<String> problem = WebTtyWire.problem(f, true);
    if (problem.isPresent()) {
      rejectServer(conn, f, problem.get());
      return;
    }
    if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER) {
      register(conn, f);
      return;
    }
    if (!conn.registered()) {
      rejectServer(conn, f, "not_registered");
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
          rejectServer(conn, f, "unexpected");
          return;
        }
        s.serverHello = f.getServerHello();
        s.state = Session.State.AWAIT_PROOF;
        sendTo(s, owner(s), f.toBuilder().setServerId(s.serverId).build());
      }
      case WEBTTY_FRAME_TYPE_READY -> {
        if (s.state != Session.State.AWAIT_READY) {
          rejectServer(conn, f, "unexpected");
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
          rejectServer(conn, f, "not_ready");
          return;
        }
        if (!f.getSealed().getPayloadKeyId().equals(s.payloadKeyId)) {
          rejectServer(conn, f, "wrong_key_id");
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
        endSession(s, "exit", out);
      }
      case WEBTTY_FRAME_TYPE_CLOSE -> endSession(s, f.getReason().isEmpty() ? "server_closed" : f.getReason(), null);
      default -> rejectServer(conn, f, "unknown_type");
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
        rejectServer(conn, f, "unexpected");
        return;
      }
      conn.policy = normalized(f.getPolicy());
      writeServer(conn, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTERED)
          .setServerId(conn.serverId).setPolicy(conn.policy).build());
      return;
    }
    if (!f.getServerId().equals(c.subject())) {
      rejectServer(conn, f, "wrong_server");
      return;
    }
    if (isRevoked(c)) {
      rejectServer(conn, f, "revoked");
      return;
    }
    String key = c.workspaceId() + "|" + f.getServerId();
    ServerConn previous = servers.get(key);
    if (previous != null) {
      closeServer(previous, "replaced");
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
        .onFailure(e -> closeServer(conn, "bus_unavailable"));
  }

  private void rejectServer(ServerConn conn, WebTtyFrame f, String reason) {
    metrics.rejected(SERVER, reason);
    if (f != null && !f.getSessionId().isEmpty()) {
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(conn.claims.workspaceId())
          .actor(AuditActor.machine(conn.claims.subject())).target("session", f.getSessionId()).denied(reason).emit();
    }
    closeServer(conn, reason);
  }

  private void closeServer(ServerConn conn, String reason) {
    if (conn.closed) {
      return;
    }
    writeServer(conn, error("", reason));
    conn.ws.close("oversized".equals(reason) ? WebSockets.CLOSE_TOO_BIG : (short) 1008, reason);
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
        endSession(s, "server_gone", null);
      }
    }
  }

  private void writeServer(ServerConn conn, WebTtyFrame f) {
    if (!conn.closed) {
      conn.ws.writeBinaryMessage(Buffer.buffer(f.toByteArray()));
    }
  }

  // ---------------------------------------------------------------- client side (edge)

  /** A verified client (member token) connected. */
  public void acceptClient(ServerWebSocket ws, SessionClaims claims) {
    ClientConn conn = new ClientConn(ws, claims, ulid.next());
    clients.put(conn.participantId, conn);
    metrics.connections.incrementAndGet();
    ws.binaryMessageHandler(buf -> onClientMessage(conn, buf));
    ws.drainHandler(v -> maybeResume());
    ws.textMessageHandler(t -> rejectClient(conn, "text_frame"));
    ws.closeHandler(v -> onClientClosed(conn));
    ws.exceptionHandler(WebSockets.closingTooBig(ws, e -> countTooBig(CLIENT, e)));
  }

  private void onClientMessage(ClientConn conn, Buffer buf) {
    if (conn.closed) {
      return;
    }
    if (buf.length() > WebTtyWire.MAX_FRAME_BYTES) {
      rejectClient(conn, "oversized");
      return;
    }
    WebTtyFrame f;
    try {
      f = Wire.parseAliased(WebTtyFrame.parser(), buf.getBytes()); // the ciphertext is not copied again
    } catch (InvalidProtocolBufferException e) {
      rejectClient(conn, "truncated");
      return;
    }
    Optional<String> problem = WebTtyWire.problem(f, false);
    if (problem.isPresent()) {
      rejectClient(conn, problem.get());
      return;
    }
    WebTtyFrameType t = f.getType();
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN) {
      if (conn.sessionId != null) {
        rejectClient(conn, "already_in_session");
        return;
      }
      open(conn, f);
      return;
    }
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN || t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH) {
      if (conn.sessionId != null) {
        rejectClient(conn, "already_in_session");
        return;
      }
      conn.sessionId = f.getSessionId();
      conn.keyIdHex = HEX.formatHex(f.getKeyId().toByteArray());
      if (isRevoked(conn.claims)) {
        writeClient(conn, error(conn.sessionId, "revoked"));
        return;
      }
    } else if (conn.sessionId == null) {
      rejectClient(conn, "no_session");
      return;
    } else if (!f.getSessionId().isEmpty() && !f.getSessionId().equals(conn.sessionId)) {
      rejectClient(conn, "wrong_session");
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
      writeClient(conn, error("", "revoked"));
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
            writeClient(conn, refused("", "bus_unavailable"));
          } else if (ar.result() == 0) {
            writeClient(conn, refused("", "server_offline"));
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
      rejectClient(conn, "slow");
    }
  }

  private void rejectClient(ClientConn conn, String reason) {
    metrics.rejected(CLIENT, reason);
    if (conn.sessionId != null) {
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(conn.claims.workspaceId())
          .actor(AuditActor.member(conn.claims.subject())).target("session", conn.sessionId).denied(reason).emit();
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
          .setSessionId(conn.sessionId).setReason("disconnected").build());
    }
  }

  /** Writes to a local client; after EXIT, CLOSE or ERROR the connection is closed. */
  private void writeClient(ClientConn conn, WebTtyFrame f) {
    if (conn.closed) {
      return;
    }
    if (conn.sessionId == null && !f.getSessionId().isEmpty()) {
      conn.sessionId = f.getSessionId();
    }
    conn.ws.writeBinaryMessage(Buffer.buffer(f.toByteArray()));
    WebTtyFrameType t = f.getType();
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT || t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR
        || (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE && f.getParticipantId().isEmpty())) {
      String reason = t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR ? f.getReason() : "session_over";
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
      for (String to : d.getToList()) {
        ClientConn c = clients.get(to);
        if (c != null) {
          writeClient(c, d.getFrame());
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
        replyTo(who, error(f.getSessionId(), "unknown_session"));
      }
      return;
    }
    if (!s.workspaceId.equals(ws)) {
      // a frame for another workspace's session: refused, counted, never forwarded
      metrics.rejected(CLIENT, "wrong_workspace");
      replyTo(who, error(f.getSessionId(), "unknown_session"));
      return;
    }
    Session.Part p = partOf(s, who);
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_JOIN, WEBTTY_FRAME_TYPE_ATTACH -> join(s, who, role, f);
      case WEBTTY_FRAME_TYPE_CLOSE -> {
        if (p != null) {
          removeParticipant(s, p, f.getReason().isEmpty() ? "left" : f.getReason());
          if ("terminate".equals(f.getReason()) && p.subject.equals(s.openedBy)) {
            endSession(s, "terminated", null);
          }
        }
      }
      default -> {
        if (p == null) {
          replyTo(who, error(f.getSessionId(), "not_participant"));
          return;
        }
        participantFrame(s, p, f);
      }
    }
  }

  private void homeOpen(WebTtyBusMessage who, UUID ws, Role role, WebTtyFrame f) {
    ServerConn server = servers.get(ws + "|" + f.getServerId());
    if (server == null || server.closed) {
      replyTo(who, refused("", "server_offline"));
      return;
    }
    // revocation was checked by the edge, which holds the whole token, just before it sent this OPEN
    if (!role.atLeast(Role.MEMBER)) {
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(ws).actor(AuditActor.member(who.getSubject()))
          .target("machine", f.getServerId()).denied("role").emit();
      replyTo(who, error("", "forbidden"));
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
        endSession(s, "handshake_timeout", null);
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
        .onFailure(e -> endSession(s, "bus_unavailable", null));
  }

  private void participantFrame(Session s, Session.Part p, WebTtyFrame f) {
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_CLIENT_PROOF -> {
        if (s.state != Session.State.AWAIT_PROOF || !p.subject.equals(s.openedBy)) {
          rejectParticipant(s, p, "unexpected");
          return;
        }
        ByteString keyId = f.getGrants(0).getPayloadKeyId();
        for (KeyGrant g : f.getGrantsList()) {
          if (!g.getPayloadKeyId().equals(keyId)) {
            rejectParticipant(s, p, "malformed");
            return;
          }
        }
        String ownKey = HEX.formatHex(f.getKeyId().toByteArray());
        s.grants = List.copyOf(f.getGrantsList());
        for (KeyGrant g : s.grants) {
          s.grantKeyIds.add(HEX.formatHex(g.getRecipientKeyId().toByteArray()));
        }
        if (!s.grantKeyIds.contains(ownKey)) {
          rejectParticipant(s, p, "no_grant");
          return;
        }
        Session.Part owner = new Session.Part(p.id, p.subject, p.role, p.tokenId, p.instance, ownKey, p.participantRole);
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
          rejectParticipant(s, p, "not_ready");
          return;
        }
        if (!p.id.equals(s.controllerId)) {
          // stdin from a viewer: refused and counted; the viewer stays connected
          metrics.rejected(CLIENT, "not_controller");
          deliver(p.instance, List.of(p.id), refused(s.id, "not_controller"));
          return;
        }
        if (!f.getSealed().getPayloadKeyId().equals(s.payloadKeyId)) {
          rejectParticipant(s, p, "wrong_key_id");
          return;
        }
        if (f.getSequence() <= p.lastStdinSequence) {
          rejectParticipant(s, p, "replayed");
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
          rejectParticipant(s, p, "not_ready");
          return;
        }
        if (!p.id.equals(s.controllerId)) {
          metrics.rejected(CLIENT, "not_controller");
          deliver(p.instance, List.of(p.id), refused(s.id, "not_controller"));
          return;
        }
        s.size = f.getSize();
        WebTtyFrame out = stamp(s, f);
        record(s, RecordedEvent.newBuilder().setSequence(out.getSequence()).setTimeUnixMs(out.getTimeUnixMs())
            .setKind(RecordedKind.RECORDED_KIND_RESIZE).setSize(f.getSize()).build());
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
          deliver(p.instance, List.of(p.id), refused(s.id, "not_controller"));
          return;
        }
        if (target == null || !target.role.atLeast(Role.MEMBER)) {
          deliver(p.instance, List.of(p.id), refused(s.id, "not_allowed"));
          return;
        }
        setController(s, target, p);
      }
      case WEBTTY_FRAME_TYPE_CONTROL_TAKE -> {
        if (!p.subject.equals(s.openedBy)) {
          metrics.rejected(CLIENT, "not_owner");
          deliver(p.instance, List.of(p.id), refused(s.id, "not_owner"));
          return;
        }
        setController(s, p, p);
      }
      default -> rejectParticipant(s, p, "unexpected");
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
    audit.event(AuditAction.TERMINAL_CONTROL_CHANGED).workspace(s.workspaceId).actor(AuditActor.member(by.subject))
        .target("session", s.id).meta("controller", to.subject).success().emit();
  }

  private void join(Session s, WebTtyBusMessage who, Role role, WebTtyFrame f) {
    boolean attach = f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH;
    String keyHex = HEX.formatHex(f.getKeyId().toByteArray());
    String reason = null;
    if (s.state != Session.State.LIVE) {
      reason = "not_live";
    // (revocation was checked by the edge, which holds the whole token, just before it sent this JOIN)
    } else if (attach && !who.getSubject().equals(s.openedBy)) {
      reason = "not_owner";
    } else if (!attach && !mayJoin(s.policy.getJoin(), role, who.getSubject().equals(s.openedBy))) {
      reason = "policy";
    } else if (!s.grantKeyIds.contains(keyHex)) {
      reason = "no_grant";
    } else if (s.participants.containsKey(who.getParticipantId())) {
      reason = "already_in_session";
    }
    if (reason != null) {
      metrics.rejected(CLIENT, reason);
      audit.event(AuditAction.TERMINAL_REFUSED).workspace(s.workspaceId).actor(AuditActor.member(who.getSubject()))
          .target("session", s.id).denied(reason).emit();
      replyTo(who, error(s.id, reason));
      return;
    }
    boolean control = attach && (s.controllerId == null || !s.participants.containsKey(s.controllerId));
    Session.Part p = new Session.Part(who.getParticipantId(), who.getSubject(), role, who.getTokenId(),
        who.getOrigin(), keyHex, control ? ParticipantRole.PARTICIPANT_ROLE_CONTROLLER : ParticipantRole.PARTICIPANT_ROLE_VIEWER);
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
    for (Session.Part q : s.participants.values()) {
      joined.addParticipants(Participant.newBuilder().setParticipantId(q.id).setRole(q.participantRole));
    }
    sendTo(s, p, joined.build());
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

  private void rejectParticipant(Session s, Session.Part p, String reason) {
    metrics.rejected(CLIENT, reason);
    audit.event(AuditAction.TERMINAL_REFUSED).workspace(s.workspaceId).actor(AuditActor.member(p.subject))
        .target("session", s.id).denied(reason).emit();
    s.participants.remove(p.id);
    deliver(p.instance, List.of(p.id), error(s.id, reason));
    afterLeave(s, p);
  }

  private void removeParticipant(Session s, Session.Part p, String reason) {
    if (s.participants.remove(p.id) == null) {
      return;
    }
    if ("revoked".equals(reason)) {
      deliver(p.instance, List.of(p.id), error(s.id, "revoked"));
    }
    sendToAll(s, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT)
        .setSessionId(s.id).setParticipantId(p.id).setReason(reason).build());
    audit.event(AuditAction.TERMINAL_LEFT).workspace(s.workspaceId).actor(AuditActor.member(p.subject))
        .target("session", s.id).meta("reason", reason).success().emit();
    afterLeave(s, p);
  }

  private void afterLeave(Session s, Session.Part p) {
    if (s.state == Session.State.ENDED) {
      return;
    }
    if (p.id.equals(s.controllerId)) {
      s.controllerId = null;
    }
    if (s.state != Session.State.LIVE) {
      if (p.subject.equals(s.openedBy)) {
        endSession(s, "client_gone", null);
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
          endSession(s, "detached_timeout", null);
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

  private void endSession(Session s, String reason, WebTtyFrame exit) {
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
    metrics.sessionsEnded(reason);
    if (exit != null) {
      sendToAll(s, exit);
    } else {
      sendToAll(s, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).setSessionId(s.id)
          .setReason(reason).build());
      writeServer(s.server, WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
          .setSessionId(s.id).setReason(reason).build());
    }
    if (s.stored) {
      writer.endSession(s.workspaceId, s.id, clock.millis(), reason, exit == null ? null : exit.getExitStatus());
    }
    if (s.channel != null) {
      s.channel.unsubscribe();
    }
    var ev = audit.event(AuditAction.TERMINAL_CLOSED).workspace(s.workspaceId).actor(AuditActor.member(s.openedBy))
        .target("session", s.id).meta("reason", reason);
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
      for (String id : to) {
        ClientConn c = clients.get(id);
        if (c != null) {
          writeClient(c, f);
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

  private static WebTtyFrame error(String sessionId, String reason) {
    return WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR)
        .setSessionId(sessionId == null ? "" : sessionId).setReason(reason).build();
  }

  private static WebTtyFrame refused(String sessionId, String reason) {
    return WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
        .setSessionId(sessionId == null ? "" : sessionId).setReason(reason).build();
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
