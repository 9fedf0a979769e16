package dev.umbra.relay.routing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.revocation.RevocationList;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;
import dev.umbra.relay.RelaySettings;
import dev.umbra.relay.auth.RelayAuth;
import dev.umbra.relay.limits.IpLimits;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.metrics.RelayMetrics.Drop;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes frames between the connections of this instance and, over the bus, those of other
 * instances, on the envelope alone (docs/relay.md). Everything runs on the relay verticle's event
 * loop, so the maps are plain. Nothing is persisted: routes are learned from live connections and
 * from the frames themselves, which is what lets a client or daemon resume on any instance.
 */
public final class Switchboard {
  private static final Logger log = LoggerFactory.getLogger(Switchboard.class);
  public static final short CLOSE_GOING_AWAY = 1001;
  public static final short CLOSE_TOO_BIG = 1009;
  public static final short CLOSE_UNSUPPORTED = 1003;
  public static final short CLOSE_REPLACED = 4000;
  public static final short CLOSE_EXPIRED = 4001;
  public static final short CLOSE_IDLE = 4002;
  public static final short CLOSE_REVOKED = 4003;

  private final Vertx vertx;
  private final Bus bus;
  private final RelaySettings settings;
  private final RelayMetrics metrics;
  private final Clock clock;
  private final String instance;
  private final IpLimits messageLimits;
  private final ChannelAudit channelAudit;
  private final Delivery delivery;
  private final RevocationEffects revocationEffects;
  private final MeshAccess meshAccess;
  private final InternalCredential internal;
  private final Set<Connection> connections = new LinkedHashSet<>();
  private final Map<String, Connection> daemons = new HashMap<>();
  private final Map<String, Connection> clientChannels = new HashMap<>();
  private BusRoutes subs;
  private RevocationList revocations;
  private Context context;
  private Mesh mesh;
  private Takeovers takeovers;
  private BusInbound inbound;
  private long nextId;

  public Switchboard(
      Vertx vertx,
      InternalCredential internal,
      Bus bus,
      RelaySettings settings,
      RelayMetrics metrics,
      Clock clock,
      String instance,
      AuditEmitter audit,
      MeshAccess meshAccess) {
    this.channelAudit = new ChannelAudit(audit);
    this.meshAccess = meshAccess;
    this.internal = internal;
    this.vertx = vertx;
    this.bus = bus;
    this.settings = settings;
    this.metrics = metrics;
    this.clock = clock;
    this.instance = instance;
    this.messageLimits = new IpLimits(settings.messageRate(), settings.messageBurst());
    this.delivery = new Delivery(metrics, settings.queueBytes());
    this.revocationEffects = new RevocationEffects(metrics, delivery);
  }

  /**
   * Listens to the service's revocations and the mesh's takeover notices, and starts the ping /
   * idle / expiry sweep.
   */
  public Future<Void> start(RevocationList revocations) {
    context = vertx.getOrCreateContext();
    subs = new BusRoutes(bus, context);
    mesh = new Mesh(this, vertx, bus, context, settings, metrics, delivery, instance, meshAccess);
    takeovers = new Takeovers(this, bus, instance, mesh, metrics, internal.value(), clock);
    inbound = new BusInbound(this, metrics, delivery, mesh, takeovers);
    long every = settings.ping().toMillis();
    vertx.setPeriodic(every, every, t -> sweep());
    this.revocations = revocations;
    revocations.onRevoked(this::onRevocation);
    return mesh.start(takeovers::onRoutes);
  }

  /** Withdraws this instance's presence, closes every connection (1001) and every mesh link. */
  public Future<Void> stop() {
    List<Future<Void>> released = new ArrayList<>();
    for (Connection d : daemons.values()) {
      released.add(mesh.release(d.workspace, d.target));
    }
    for (Connection c : new ArrayList<>(connections)) {
      close(c, CLOSE_GOING_AWAY, RelayReason.RELAY_REASON_RELAY_STOPPING);
    }
    return Future.join(released).timeout(2, TimeUnit.SECONDS).transform(x -> mesh.stop());
  }

  public String instance() {
    return instance;
  }

  // ---------------------------------------------------------------- admission and lifecycle

  /**
   * Why the revocation list refuses this session, or null when it admits it: {@link Reject#REVOKED}
   * when a revocation voids it, {@link Reject#REVOCATIONS_STALE} when the list is not current (not
   * started, or the log not read within {@code RevocationList.STALE_AFTER}), so it fails closed for
   * every session without claiming any of them was revoked.
   */
  public Reject revocationRefusal(SessionClaims c) {
    if (revocations == null) {
      return Reject.REVOCATIONS_STALE;
    }
    if (revocations.find(c) != null) {
      return Reject.REVOKED;
    }
    return revocations.current() ? null : Reject.REVOCATIONS_STALE;
  }

  /**
   * Why a session the token verifier already refused as revoked was refused, without its claims:
   * the verifier's check fails closed while the list is not current, so a stale list is named as
   * such.
   */
  public Reject revokedByVerifier() {
    return revocations != null && revocations.current() ? Reject.REVOKED : Reject.REVOCATIONS_STALE;
  }

  /** Takes over an upgraded WebSocket of an authenticated daemon or client. */
  public void attach(ServerWebSocket ws, SessionClaims claims, String ip) {
    boolean daemon = RelayAuth.isDaemon(claims);
    BusPublisher pub = new BusPublisher(bus, context, instance, metrics, settings.queueBytes());
    Connection c = new Connection(++nextId, ws, claims, daemon, ip, pub, System.nanoTime());
    pub.owner(c);
    connections.add(c);
    metrics.connected(daemon);
    ws.setWriteQueueMaxSize(settings.queueBytes());
    ws.frameHandler(
        new WholeMessages(
            settings.maxFrameBytes(),
            b -> onMessage(c, b),
            () -> refuse(c, Reject.TEXT_FRAME, CLOSE_UNSUPPORTED),
            () -> refuse(c, Reject.OVERSIZED, CLOSE_TOO_BIG)));
    ws.pongHandler(b -> c.lastHeardNanos = System.nanoTime());
    ws.drainHandler(
        v -> {
          delivery.releaseWaiting(c);
          mesh.drained(c);
        });
    ws.exceptionHandler(SocketErrors.counted(ws, metrics));
    ws.closeHandler(v -> detach(c));
    // the server is stopping: say so at once (1001) so peers reconnect elsewhere instead of waiting
    // out the drain
    ws.shutdownHandler(v -> close(c, CLOSE_GOING_AWAY, RelayReason.RELAY_REASON_RELAY_STOPPING));
    log.atDebug()
        .addKeyValue("connection", c.id)
        .addKeyValue("role", c.role())
        .addKeyValue("workspace", c.workspace)
        .log("relay connection opened");
  }

  private void detach(Connection c) {
    if (c.closed && !connections.contains(c)) {
      return;
    }
    c.closed = true;
    if (!connections.remove(c)) {
      return;
    }
    metrics.disconnected(c.daemon);
    if (c.target != null) {
      String tk = Topics.targetKey(c.workspace, c.target);
      if (daemons.get(tk) == c) {
        daemons.remove(tk);
        subs.dropTarget(tk);
        mesh.release(c.workspace, c.target);
      }
    }
    for (String ck : new ArrayList<>(c.channels)) {
      unbind(ck);
    }
    delivery.releaseWaiting(c);
    for (Connection receiver : c.waitingOn) {
      receiver.waiting.remove(c);
    }
    c.waitingOn.clear();
    mesh.forget(c);
    log.atDebug()
        .addKeyValue("connection", c.id)
        .addKeyValue("role", c.role())
        .log("relay connection closed");
  }

  private void close(Connection c, short code, RelayReason reason) {
    if (!c.closed) {
      c.closed = true;
      c.ws.close(code, RelayReasons.wire(reason)).onComplete(x -> detach(c));
      // the close handshake may never finish with a dead peer: detach now anyway
      detach(c);
    }
  }

  /** A message refused before parsing (text, oversized): counted, answered, connection closed. */
  private void refuse(Connection c, Reject why, short code) {
    delivery.reject(c, why, null);
    close(c, code, why.reason());
  }

  private void sweep() {
    long now = System.nanoTime();
    long idleNanos = settings.idle().toNanos();
    long expiryLimit = clock.millis() - SessionTokens.CLOCK_SKEW_SECONDS * 1000;
    for (Connection c : new ArrayList<>(connections)) {
      if (now - c.lastHeardNanos > idleNanos) {
        close(c, CLOSE_IDLE, RelayReason.RELAY_REASON_IDLE);
      } else if (c.claims.expiresAt().toEpochMilli() < expiryLimit) {
        close(c, CLOSE_EXPIRED, RelayReason.RELAY_REASON_TOKEN_EXPIRED);
      } else {
        c.ws.writePing(Buffer.buffer());
      }
    }
    messageLimits.sweep(now);
    mesh.sweep(daemons.values(), now);
  }

  // ---------------------------------------------------------------- frames from connections

  private void onMessage(Connection c, Buffer buf) {
    if (c.closed) {
      return;
    }
    long now = System.nanoTime();
    c.lastHeardNanos = now;
    // 1. size, before anything else (the WebSocket layer already refused longer messages)
    if (buf.length() > settings.maxFrameBytes()) {
      refuse(c, Reject.OVERSIZED, CLOSE_TOO_BIG);
      return;
    }
    // 2. per-IP message rate: the frame is already read, so pause the connection to repay the debt
    long debt = messageLimits.takeOrDebt(c.ip, now);
    if (debt > 0 && !c.rateHeld) {
      metrics.reject(Reject.MESSAGE_RATE);
      c.rateHeld = true;
      c.hold();
      vertx.setTimer(
          Math.max(1, debt / 1_000_000),
          t -> {
            c.rateHeld = false;
            c.release();
          });
    }
    // 3. envelope
    RelayFrame f;
    try {
      f = RelayWire.parse(buf);
    } catch (InvalidProtocolBufferException e) {
      delivery.reject(c, Reject.MALFORMED, null);
      return;
    }
    Reject bad = EnvelopeCheck.check(c, f);
    if (bad != null) {
      delivery.reject(c, bad, f);
      return;
    }
    metrics.frame(f.getType(), buf.length());
    if (c.daemon) {
      fromDaemon(c, f, buf);
    } else {
      fromClient(c, f, buf);
    }
  }

  private void fromDaemon(Connection c, RelayFrame f, Buffer raw) {
    if (f.getType() == FrameType.FRAME_TYPE_REGISTER) {
      register(c, f);
      return;
    }
    if (c.target == null) {
      delivery.reject(c, Reject.NOT_REGISTERED, f);
      return;
    }
    if (!c.target.equals(f.getTargetId())) {
      delivery.reject(c, Reject.WRONG_TARGET, f);
      return;
    }
    String ck = c.keys.channel(c.workspace, c.target, f.getChannelId());
    Connection client = clientChannels.get(ck);
    if (client != null) {
      channelAudit.seenByClient(client, ck, f);
      delivery.deliverLocal(c, client, raw);
      if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
        unbind(ck);
      }
    } else if (!mesh.toClient(c, f, raw, ck)) {
      c.publisher.publish(
          Topics.channelTopic(c.workspace, c.target, f.getChannelId()),
          f,
          (fr, busError) -> undelivered(busError));
    }
  }

  private void register(Connection c, RelayFrame f) {
    String target = f.getTargetId();
    if (!target.equals(c.claims.subject()) || (c.target != null && !c.target.equals(target))) {
      delivery.reject(c, Reject.WRONG_TARGET, f);
      return;
    }
    String tk = Topics.targetKey(c.workspace, target);
    Connection previous = daemons.put(tk, c);
    if (previous != null && previous != c) {
      close(previous, CLOSE_REPLACED, RelayReason.RELAY_REASON_REPLACED);
      daemons.put(tk, c);
    }
    c.target = target;
    c.registeredAt = clock.millis();
    c.hold();
    OnLoop.of(
            context,
            subs.target(
                    tk,
                    c.workspace,
                    target,
                    m -> inbound.toDaemon(tk, Topics.targetTopic(c.workspace, target), m))
                .compose(s -> mesh.hold(c.workspace, target))
                .compose(v -> takeovers.announce(c)))
        .onComplete(
            ar -> {
              c.release();
              if (ar.succeeded()) {
                delivery.send(
                    c,
                    RelayFrame.newBuilder()
                        .setType(FrameType.FRAME_TYPE_REGISTERED)
                        .setWorkspaceId(c.workspace)
                        .setTargetId(target)
                        .build());
              } else {
                delivery.send(
                    c,
                    RelayFrames.error(c.workspace, null, RelayReason.RELAY_REASON_BUS_UNAVAILABLE));
              }
            });
  }

  private void fromClient(Connection c, RelayFrame f, Buffer raw) {
    String ck = c.keys.channel(c.workspace, f.getTargetId(), f.getChannelId());
    Connection owner = clientChannels.get(ck);
    if (f.getType() == FrameType.FRAME_TYPE_OPEN && owner != null) {
      Reject why = owner == c ? Reject.DUPLICATE_OPEN : Reject.CHANNEL_IN_USE;
      delivery.reject(c, why, f);
      channelAudit.channel(AuditAction.RELAY_CHANNEL_REFUSED, c, f, why.tag());
      return;
    }
    if (owner != null && owner != c && !owner.claims.subject().equals(c.claims.subject())) {
      delivery.reject(c, Reject.CHANNEL_IN_USE, f);
      return;
    }
    if (owner != c) {
      if (f.getType() == FrameType.FRAME_TYPE_CLOSE && owner == null) {
        // closing a channel this instance does not route: pass it on without binding
        toDaemon(c, f, raw);
        return;
      }
      bind(ck, c);
    }
    if (f.getType() == FrameType.FRAME_TYPE_OPEN) {
      c.opening.add(ck);
    } else if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
      c.opening.remove(ck);
      channelAudit.channel(
          AuditAction.RELAY_CHANNEL_CLOSED,
          c,
          f,
          "client_" + ChannelAudit.reasonCode(f.getReason()));
    }
    if (subs.channelReady(ck)) {
      toDaemon(c, f, raw);
      if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
        unbind(ck);
      }
      return;
    }
    // first frame of this channel here: replies can only reach us once subscribed
    c.hold();
    OnLoop.of(
            context,
            subs.channel(
                ck, c.workspace, f.getTargetId(), f.getChannelId(), m -> inbound.toClient(ck, m)))
        .onComplete(
            ar -> {
              c.release();
              if (c.closed) {
                return;
              }
              if (ar.failed()) {
                delivery.send(
                    c,
                    RelayFrames.close(c.workspace, f, RelayReason.RELAY_REASON_RELAY_UNAVAILABLE));
                unbind(ck);
                return;
              }
              toDaemon(c, f, raw);
              if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
                unbind(ck);
              }
            });
  }

  private void toDaemon(Connection c, RelayFrame f, Buffer raw) {
    String tk = c.keys.target(c.workspace, f.getTargetId());
    Connection d = daemons.get(tk);
    if (d != null) {
      delivery.deliverLocal(c, d, raw);
      return;
    }
    if (!mesh.toDaemon(c, f, raw, tk, () -> toDaemonByBus(c, f))) {
      toDaemonByBus(c, f);
    }
  }

  private void toDaemonByBus(Connection c, RelayFrame f) {
    c.publisher.publish(
        Topics.targetTopic(c.workspace, f.getTargetId()),
        f,
        (fr, busError) -> {
          if (!busError && fr.getType() == FrameType.FRAME_TYPE_OPEN) {
            metrics.reject(Reject.UNKNOWN_TARGET);
            delivery.send(c, RelayFrames.close(c.workspace, fr, Reject.UNKNOWN_TARGET.reason()));
            c.opening.remove(Topics.channelKey(c.workspace, fr.getTargetId(), fr.getChannelId()));
            channelAudit.channel(
                AuditAction.RELAY_CHANNEL_REFUSED, c, fr, Reject.UNKNOWN_TARGET.tag());
            unbind(Topics.channelKey(c.workspace, fr.getTargetId(), fr.getChannelId()));
          } else {
            undelivered(busError);
          }
        });
  }

  private void undelivered(boolean busError) {
    metrics.drop(busError ? Drop.BUS_ERROR : Drop.NO_ROUTE);
  }

  // ---------------------------------------------------------------- channel routes

  private void bind(String ck, Connection c) {
    Connection old = clientChannels.put(ck, c);
    if (old != null) {
      old.channels.remove(ck);
    } else {
      metrics.channelOpened();
    }
    c.channels.add(ck);
  }

  private void unbind(String ck) {
    Connection owner = clientChannels.remove(ck);
    if (owner != null) {
      owner.channels.remove(ck);
      metrics.channelClosed();
    }
    subs.dropChannel(ck);
  }

  // ---------------------------------------------------------------- for the mesh

  Connection localDaemon(String tk) {
    return daemons.get(tk);
  }

  Connection localClient(String ck) {
    return clientChannels.get(ck);
  }

  void seenByClient(Connection client, String ck, RelayFrame f) {
    channelAudit.seenByClient(client, ck, f);
  }

  void unbindChannel(String ck) {
    unbind(ck);
  }

  /** A newer connection of {@code d}'s target registered on another instance. */
  void replaced(Connection d) {
    close(d, CLOSE_REPLACED, RelayReason.RELAY_REASON_REPLACED);
  }

  /** Whether {@code peer} may open a mesh link here: a live mesh instance other than this one. */
  public Future<Boolean> meshKnows(String peer) {
    return mesh.knows(peer);
  }

  /** Takes over an upgraded mesh link from {@code peer}. */
  public void acceptLink(ServerWebSocket ws, String peer) {
    mesh.accept(ws, peer);
  }

  /** Mesh links open here, either way (tests). */
  public int meshLinks() {
    return mesh.links();
  }

  // ---------------------------------------------------------------- revocations

  /** Applies a revocation to this instance's connections ({@link RevocationEffects}). */
  private void onRevocation(Revoked r) {
    revocationEffects.apply(
        r,
        new ArrayList<>(connections),
        c -> close(c, CLOSE_REVOKED, RelayReason.RELAY_REASON_REVOKED));
  }

  /** Local connections (tests and metrics). */
  public int connectionCount() {
    return connections.size();
  }
}
