package dev.umbra.webtty.session;

import static dev.umbra.proto.webtty.WebTtyReasons.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.http.BinaryMessages;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.kit.http.WsMessages;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.Delivery;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.recording.RecordingWriter;
import dev.umbra.webtty.routing.BusOutbox;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The engine's edge (docs/webtty.md, "Engine internals"): the WebSocket connections of servers and
 * clients on this instance, with their verified claims. It checks each frame's envelope (size,
 * parse in place, {@link WebTtyWire#problem}), registers servers, sends a client's frames to its
 * session's home (the local {@link SessionHome} directly, another instance over the bus), delivers
 * what homes send back (one serialization per fan-out), and pauses a server's socket while
 * recording, bus or a local client cannot keep up. Confined to the verticle's event loop.
 */
final class EdgeRouter {
  private static final HexFormat HEX = HexFormat.of();
  private static final String CLIENT = "client";
  private static final String SERVER = "server";

  /** WebSocket close code for {@code home_moved}: 1012, "service restart" (reconnect). */
  private static final short HOME_MOVED = 1012;

  private final Bus bus;
  private final EngineMetrics metrics;
  private final AuditEmitter audit;
  private final RecordingWriter writer;
  private final BusOutbox outbox;
  private final Ulid ulid;
  private final String instanceId;
  private final Predicate<SessionClaims> revoked;
  private final Map<String, ServerConn> servers = new HashMap<>();
  private final Set<ServerConn> serverConns = new LinkedHashSet<>();
  private final Map<String, ClientConn> clients = new HashMap<>();
  private SessionHome home;

  EdgeRouter(
      Bus bus,
      EngineMetrics metrics,
      AuditEmitter audit,
      RecordingWriter writer,
      Ulid ulid,
      String instanceId,
      Predicate<SessionClaims> revoked) {
    this.bus = bus;
    this.metrics = metrics;
    this.audit = audit;
    this.writer = writer;
    this.ulid = ulid;
    this.instanceId = instanceId;
    this.revoked = revoked;
    this.outbox = new BusOutbox(bus, metrics);
    outbox.onDrain(this::maybeResume);
    writer.onResume(this::maybeResume);
  }

  /** The home this edge hands local sessions' frames to (wired once, by the hub). */
  void homeAt(SessionHome home) {
    this.home = home;
  }

  /** The registered connection of a server, or null. */
  ServerConn registered(UUID ws, String serverId) {
    return servers.get(ws + "|" + serverId);
  }

  void closeAll() {
    for (ServerConn s : new ArrayList<>(servers.values())) {
      s.ws.close((short) 1001, wire(WebTtyReason.WEBTTY_REASON_GOING_AWAY));
    }
    for (ClientConn c : new ArrayList<>(clients.values())) {
      c.ws.close((short) 1001, wire(WebTtyReason.WEBTTY_REASON_GOING_AWAY));
    }
  }

  /**
   * A revocation at this edge, which holds the whole token (token, device and keyset revocations
   * are matched here): the revoked party's server connections close, registered or not.
   */
  void closeRevokedServers(Revoked r) {
    for (ServerConn s : new ArrayList<>(serverConns)) {
      if (r.endsLive(s.claims)) {
        closeServer(s, WebTtyReason.WEBTTY_REASON_REVOKED);
      }
    }
  }

  /**
   * The revoked party's client connections here close after an ERROR {@code revoked}; their homes
   * hear them leave.
   */
  void closeRevokedClients(Revoked r) {
    for (ClientConn c : new ArrayList<>(clients.values())) {
      if (r.endsLive(c.claims)) {
        if (c.sessionId != null) { // a JOIN queued while no instance homes it reaches none later
          outbox.withdraw(BusNames.webttySession(c.sessionId), Frames.toHome(instanceId, c));
        }
        writeClient(
            c,
            Frames.error(
                c.sessionId == null ? "" : c.sessionId, WebTtyReason.WEBTTY_REASON_REVOKED));
      }
    }
  }

  // ---------------------------------------------------------------- servers

  /** A verified server (machine token) connected. */
  void acceptServer(ServerWebSocket ws, SessionClaims claims) {
    ServerConn conn = new ServerConn(ws, claims);
    serverConns.add(conn); // registered or not: a revocation must reach it
    metrics.connections.incrementAndGet();
    // messages as received, not copied once more (64 KiB per DATA frame)
    BinaryMessages.read(
        ws,
        WebTtyWire.MAX_MESSAGE_BYTES,
        buf -> onServerMessage(conn, buf),
        () -> rejectServer(conn, null, WebTtyReason.WEBTTY_REASON_TEXT_FRAME),
        WebSockets.closingTooBig(ws, e -> countTooBig(SERVER, e)));
    ws.closeHandler(v -> onServerClosed(conn, true, WebTtyReason.WEBTTY_REASON_SERVER_GONE));
  }

  /**
   * A frame over the decoder's limit (4x ours): closed 1009 by the kit, counted here as oversized.
   */
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
      f =
          WsMessages.parse(
              WebTtyFrame.parser(), buf); // in place: the ciphertext is a view, not a copy
    } catch (InvalidProtocolBufferException e) {
      rejectServer(conn, null, WebTtyReason.WEBTTY_REASON_TRUNCATED);
      return;
    }
    Optional<WebTtyReason> problem = WebTtyWire.problem(f, true);
    if (problem.isPresent()) {
      rejectServer(conn, f, problem.get());
    } else if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER) {
      register(conn, f);
    } else if (!conn.registered()) {
      rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_NOT_REGISTERED);
    } else {
      home.onServerFrame(conn, f);
    }
  }

  private void register(ServerConn conn, WebTtyFrame f) {
    SessionClaims c = conn.claims;
    if (conn.registered()) {
      // the daemon's verified policy changed (docs/webtty.md, "Server policy"): a second REGISTER
      // of the same server on its own connection replaces the policy for sessions opened from now
      // on; live sessions keep the policy they were opened under
      if (!f.getServerId().equals(conn.serverId) || revoked.test(c)) {
        rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_UNEXPECTED);
        return;
      }
      conn.policy = Frames.normalized(f.getPolicy());
      conn.write(Frames.registered(conn.serverId, conn.policy));
      return;
    }
    if (!f.getServerId().equals(c.subject())) {
      rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_WRONG_SERVER);
      return;
    }
    if (revoked.test(c)) {
      rejectServer(conn, f, WebTtyReason.WEBTTY_REASON_REVOKED);
      return;
    }
    ServerConn previous = registered(c.workspaceId(), f.getServerId());
    if (previous != null) {
      closeServer(previous, WebTtyReason.WEBTTY_REASON_REPLACED);
    }
    conn.serverId = f.getServerId();
    conn.policy = Frames.normalized(f.getPolicy());
    servers.put(c.workspaceId() + "|" + conn.serverId, conn);
    bus.subscribe(BusNames.webttyServer(c.workspaceId(), conn.serverId), home::onHomeMessage)
        .onSuccess(
            sub -> {
              if (conn.closed) {
                sub.unsubscribe();
              } else {
                conn.channel = sub;
                conn.write(Frames.registered(conn.serverId, conn.policy));
              }
            })
        .onFailure(e -> closeServer(conn, WebTtyReason.WEBTTY_REASON_BUS_UNAVAILABLE));
  }

  /**
   * Refuses a server's frame: counted, audited when it names a session, and the connection closes.
   */
  void rejectServer(ServerConn conn, WebTtyFrame f, WebTtyReason reason) {
    metrics.rejected(SERVER, wire(reason));
    if (f != null && !f.getSessionId().isEmpty()) {
      audit
          .event(AuditAction.TERMINAL_REFUSED)
          .workspace(conn.claims.workspaceId())
          .actor(AuditActor.machine(conn.claims.subject()))
          .target("session", f.getSessionId())
          .denied(wire(reason))
          .emit();
    }
    closeServer(conn, reason);
  }

  private void closeServer(ServerConn conn, WebTtyReason reason) {
    if (conn.closed) {
      return;
    }
    conn.write(Frames.error("", reason));
    conn.ws.close(
        reason == WebTtyReason.WEBTTY_REASON_OVERSIZED ? WebSockets.CLOSE_TOO_BIG : (short) 1008,
        wire(reason));
    // closed by the engine: its sessions end now (as revoked if it was), unless the server
    // itself replaced the link
    onServerClosed(conn, reason == WebTtyReason.WEBTTY_REASON_REPLACED, reason);
  }

  /**
   * {@code awaitServer}: the link dropped (or was replaced by the server's new one), so its live
   * sessions wait for the server's RESUME; else (revoked, a protocol violation) they end; {@code
   * why}: why the link closed ({@link ServerLinkGrace#serverGone}).
   */
  private void onServerClosed(ServerConn conn, boolean awaitServer, WebTtyReason why) {
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
    home.serverGone(conn, awaitServer, why);
  }

  // ---------------------------------------------------------------- clients

  /** A verified client (member token) connected. */
  void acceptClient(ServerWebSocket ws, SessionClaims claims) {
    ClientConn conn = new ClientConn(ws, claims, ulid.next());
    clients.put(conn.participantId, conn);
    metrics.connections.incrementAndGet();
    ws.setWriteQueueMaxSize(WebTtyWire.WRITE_QUEUE_BYTES);
    BinaryMessages.read(
        ws,
        WebTtyWire.MAX_MESSAGE_BYTES,
        buf -> onClientMessage(conn, buf),
        () -> rejectClient(conn, WebTtyReason.WEBTTY_REASON_TEXT_FRAME),
        WebSockets.closingTooBig(ws, e -> countTooBig(CLIENT, e)));
    ws.drainHandler(v -> maybeResume());
    ws.closeHandler(v -> onClientClosed(conn));
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
      f =
          WsMessages.parse(
              WebTtyFrame.parser(), buf); // in place: the ciphertext is a view, not a copy
    } catch (InvalidProtocolBufferException e) {
      rejectClient(conn, WebTtyReason.WEBTTY_REASON_TRUNCATED);
      return;
    }
    Optional<WebTtyReason> problem = WebTtyWire.problem(f, false);
    if (problem.isPresent()) {
      rejectClient(conn, problem.get());
    } else if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN) {
      if (conn.sessionId != null) {
        rejectClient(conn, WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION);
      } else {
        open(conn, f);
      }
    } else {
      route(conn, f);
    }
  }

  /** A client's frame other than OPEN: bound to the connection's session, then sent to its home. */
  private void route(ClientConn conn, WebTtyFrame f) {
    WebTtyFrameType t = f.getType();
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN
        || t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH) {
      if (conn.sessionId != null) {
        rejectClient(conn, WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION);
        return;
      }
      conn.sessionId = f.getSessionId();
      conn.joinPending = true;
      conn.keyIdHex = HEX.formatHex(f.getKeyId().toByteArray());
      if (revoked.test(conn.claims)) {
        writeClient(conn, Frames.error(conn.sessionId, WebTtyReason.WEBTTY_REASON_REVOKED));
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
    toHome(
        conn, f.getSessionId().isEmpty() ? f.toBuilder().setSessionId(conn.sessionId).build() : f);
  }

  private void open(ClientConn conn, WebTtyFrame f) {
    if (revoked.test(conn.claims)) {
      writeClient(conn, Frames.error("", WebTtyReason.WEBTTY_REASON_REVOKED));
      return;
    }
    WebTtyBusMessage header = Frames.toHome(instanceId, conn);
    if (registered(conn.claims.workspaceId(), f.getServerId()) != null) {
      home.onClientFrame(header, f);
      return;
    }
    WebTtyBusMessage msg = header.toBuilder().addFrames(f).build();
    bus.publish(
            BusNames.webttyServer(conn.claims.workspaceId(), f.getServerId()),
            Buffer.buffer(msg.toByteArray()))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                writeClient(conn, Frames.refused("", WebTtyReason.WEBTTY_REASON_BUS_UNAVAILABLE));
              } else if (ar.result() == 0) {
                writeClient(conn, Frames.refused("", WebTtyReason.WEBTTY_REASON_SERVER_OFFLINE));
              }
            });
  }

  private void toHome(ClientConn conn, WebTtyFrame f) {
    WebTtyBusMessage header = Frames.toHome(instanceId, conn);
    if (home.session(f.getSessionId()) != null) {
      home.onClientFrame(header, f);
      return;
    }
    if (!outbox.offer(BusNames.webttySession(f.getSessionId()), header, f)) {
      metrics.dropped("bus_queue_full");
      rejectClient(conn, WebTtyReason.WEBTTY_REASON_SLOW);
    }
  }

  private void rejectClient(ClientConn conn, WebTtyReason reason) {
    metrics.rejected(CLIENT, wire(reason));
    if (conn.sessionId != null) {
      audit
          .event(AuditAction.TERMINAL_REFUSED)
          .workspace(conn.claims.workspaceId())
          .actor(AuditActor.member(conn.claims.subject()))
          .target("session", conn.sessionId)
          .denied(wire(reason))
          .emit();
    }
    writeClient(conn, Frames.error(conn.sessionId, reason));
  }

  private void onClientClosed(ClientConn conn) {
    if (conn.closed) {
      return;
    }
    conn.closed = true;
    metrics.connections.decrementAndGet();
    clients.remove(conn.participantId, conn);
    if (conn.sessionId != null) {
      toHome(
          conn,
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
              .setSessionId(conn.sessionId)
              .setReason(wire(WebTtyReason.WEBTTY_REASON_DISCONNECTED))
              .build());
    }
  }

  /** Writes to a local client; after EXIT, CLOSE or ERROR the connection is closed. */
  private void writeClient(ClientConn conn, WebTtyFrame f) {
    writeClient(conn, new SerializedFrame(f));
  }

  private void writeClient(ClientConn conn, SerializedFrame serialized) {
    WebTtyFrame f = serialized.frame;
    if (conn.closed) {
      return;
    }
    WebTtyFrameType t = f.getType();
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED && conn.joinPending) {
      // the JOIN/ATTACH was refused: the connection is bound to no session and may try again
      conn.sessionId = null;
      conn.joinPending = false;
    } else if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED) {
      conn.joinPending = false;
    }
    if (conn.sessionId == null
        && !f.getSessionId().isEmpty()
        && t != WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED) {
      conn.sessionId = f.getSessionId();
    }
    conn.ws.writeBinaryMessage(serialized.buffer());
    if (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT
        || t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR
        || (t == WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE && f.getParticipantId().isEmpty())) {
      String reason =
          t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR
              ? f.getReason()
              : wire(WebTtyReason.WEBTTY_REASON_SESSION_OVER);
      conn.ws.close(
          t == WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR ? (short) 1008 : (short) 1000, reason);
      if (!conn.closed) {
        conn.closed = true;
        metrics.connections.decrementAndGet();
        clients.remove(conn.participantId, conn);
      }
    }
  }

  // ---------------------------------------------------------------- deliveries

  /** Deliveries from a home instance to participants here. */
  void onDeliveries(BusMessage m) {
    WebTtyBusMessage msg = Frames.busMessage(m, metrics).orElse(null);
    if (msg == null) {
      return;
    }
    for (Delivery d : msg.getDeliveriesList()) {
      SerializedFrame frame = new SerializedFrame(d.getFrame());
      for (String to : d.getToList()) {
        ClientConn c = clients.get(to);
        if (c != null) {
          if (fromItsHome(c, msg.getOrigin())) {
            writeClient(c, frame);
          }
        } else {
          metrics.dropped("participant_gone");
        }
      }
    }
  }

  /**
   * A home took a session over (docs/webtty.md, "A home's death"): this edge's participants of it
   * whose home was another instance are closed {@code home_moved} (1012, no goodbye) and re-join
   * through their failover path; a living old home waiting for its server lets the session go.
   */
  void onTakeover(WebTtyBusMessage msg) { // verified by TakeoverNotice#open
    for (ClientConn c : new ArrayList<>(clients.values())) {
      if (msg.getSessionId().equals(c.sessionId)
          && c.homeInstance != null
          && !c.homeInstance.equals(msg.getOrigin())) {
        moved(c);
      }
    }
    home.movedAway(msg.getSessionId(), msg.getOrigin()); // a living old home lets it go
  }

  /** True when {@code origin} is {@code c}'s home (or its first); another home's frame moves it. */
  private boolean fromItsHome(ClientConn c, String origin) {
    if (c.homeInstance != null && !c.homeInstance.equals(origin)) {
      moved(c); // the new home answers what it sent the old one: the takeover notice's race
      return false;
    }
    c.homeInstance = origin;
    return true;
  }

  /** Closes a participant's connection whose session moved to another home: it re-joins there. */
  private void moved(ClientConn c) {
    if (c.closed) {
      return;
    }
    c.closed = true;
    metrics.connections.decrementAndGet();
    clients.remove(c.participantId, c);
    metrics.forwarded("home_moved");
    c.ws.close(HOME_MOVED, wire(WebTtyReason.WEBTTY_REASON_HOME_MOVED));
  }

  /**
   * Sends a home's frame to participants on one instance: here, written once serialized; elsewhere,
   * over the bus.
   */
  void deliver(String instance, List<String> to, WebTtyFrame f) {
    if (instance.equals(instanceId)) {
      SerializedFrame frame = new SerializedFrame(f);
      for (String id : to) {
        ClientConn c = clients.get(id);
        if (c != null && fromItsHome(c, instanceId)) {
          writeClient(c, frame);
        }
      }
      return;
    }
    WebTtyBusMessage header =
        WebTtyBusMessage.newBuilder()
            .setOrigin(instanceId)
            .setDirection(BusDirection.BUS_DIRECTION_TO_PARTICIPANTS)
            .build();
    if (!outbox.offer(
        BusNames.webttyInstance(instance),
        header,
        Delivery.newBuilder().addAllTo(to).setFrame(f).build())) {
      metrics.dropped("bus_queue_full");
    }
  }

  // ---------------------------------------------------------------- backpressure

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
  void checkPressure(ServerConn conn) {
    if (!conn.paused && pressured()) {
      conn.paused = true;
      conn.ws.pause();
    }
  }

  void maybeResume() {
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
}
