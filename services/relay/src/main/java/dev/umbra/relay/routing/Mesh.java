package dev.umbra.relay.routing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.MeshDirection;
import dev.umbra.proto.relay.MeshSignal;
import dev.umbra.proto.relay.MeshSignalKind;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.relay.RelaySettings;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay mesh (docs/relay.md, "Mesh"): a frame for a daemon or a client held by another instance
 * goes straight to that instance over a persistent, authenticated link instead of through Redis
 * pub/sub. Redis keeps the presence ({@link Presence}) from which holders are looked up (and cached
 * until a takeover notice, a {@code no_route} signal or the link's failure), and stays the fallback
 * for everything the mesh cannot route. On the relay's event loop, like the {@link Switchboard}
 * whose local routes it uses.
 */
final class Mesh {
  private static final Logger log = LoggerFactory.getLogger(Switchboard.class);
  private static final short CLOSE_POLICY = 1008;
  private static final int MAX_ROUTES = 100_000;
  private static final int MAX_BATCH_ITEMS = MeshLink.MAX_BATCH_FRAMES;
  private static final long MISS_NANOS = 2_000_000_000L;

  /** A cached holder lookup: the holder's instance id (null: none in the mesh) and when asked. */
  private record Route(Future<String> holder, long askedNanos) {}

  private final Switchboard board;
  private final Bus bus;
  private final Context context;
  private final RelaySettings settings;
  private final RelayMetrics metrics;
  private final Delivery delivery;
  private final String instance;
  private final Presence presence;
  private final MeshAuth auth;
  private final Supplier<URI> meshUrl;
  private final boolean tls;
  private final WebSocketClient client;
  private final PeerFallback fallback;
  private final Map<String, MeshLink> links = new HashMap<>();
  private final Set<MeshLink> allLinks = new LinkedHashSet<>();
  private final Map<String, Route> routes = new HashMap<>();
  private final Map<String, MeshLink> channelLinks = new HashMap<>();
  private Future<Void> announced;

  Mesh(
      Switchboard board,
      Vertx vertx,
      Bus bus,
      Context context,
      RelaySettings settings,
      RelayMetrics metrics,
      Delivery delivery,
      String instance,
      MeshAccess access) {
    this.board = board;
    this.bus = bus;
    this.context = context;
    this.settings = settings;
    this.metrics = metrics;
    this.delivery = delivery;
    this.instance = instance;
    this.presence = new Presence(bus, context, instance, settings.ping());
    this.auth = access.auth();
    this.meshUrl = access.url();
    this.tls = access.tls();
    this.fallback = new PeerFallback(bus, context, instance, metrics, settings.queueBytes());
    int max = settings.maxFrameBytes() + RelayWire.MESH_OVERHEAD_BYTES;
    this.client =
        vertx.createWebSocketClient(
            access
                .clientOptions()
                .setMaxFrameSize(max)
                .setMaxMessageSize(max)
                .setConnectTimeout(5_000)
                .setTcpNoDelay(true));
  }

  /** Whether this instance takes part: mesh on, a credential and a URL peers can reach. */
  boolean on() {
    return settings.mesh() && auth != null && meshUrl.get() != null;
  }

  /** Listens to takeover notices ({@link Takeovers#onRoutes}), which void cached routes. */
  Future<Void> start(Handler<BusMessage> onTakeover) {
    if (!settings.mesh()) {
      return Future.succeededFuture();
    }
    return OnLoop.of(context, bus.subscribe(BusNames.RELAY_ROUTES, onTakeover))
        .<Void>mapEmpty()
        .recover(
            e -> {
              // without the notices a moved daemon's route is corrected by no_route instead
              log.atWarn()
                  .addKeyValue("error", e.getMessage())
                  .log("relay mesh: no takeover notices");
              return ok();
            });
  }

  Future<Void> stop() {
    for (MeshLink l : new ArrayList<>(allLinks)) {
      l.close(Switchboard.CLOSE_GOING_AWAY, RelayReason.RELAY_REASON_RELAY_STOPPING);
      linkDown(l);
    }
    client.close();
    return Future.succeededFuture();
  }

  // ------------------------------------------------------------------ presence

  /** A daemon registered here: say so in Redis (best effort: without it peers use the bus). */
  Future<Void> hold(String workspace, String target) {
    if (!on()) {
      return Future.succeededFuture();
    }
    return announce()
        .compose(v -> presence.hold(workspace, target))
        .recover(
            e -> {
              log.atDebug().addKeyValue("error", e.getMessage()).log("relay presence not written");
              return Future.succeededFuture();
            });
  }

  /** A daemon left: withdraw its presence unless another instance holds it by now. */
  Future<Void> release(String workspace, String target) {
    return on() ? presence.release(workspace, target) : Future.succeededFuture();
  }

  /** Tells every instance's mesh a daemon registered (the takeover notice, control, rare). */
  Future<Void> announceTakeover(Buffer notice) {
    if (!on()) {
      return Future.succeededFuture();
    }
    return bus.publish(BusNames.RELAY_ROUTES, notice).<Void>mapEmpty().recover(e -> ok());
  }

  private static Future<Void> ok() {
    return Future.succeededFuture();
  }

  private Future<Void> announce() {
    if (announced == null || announced.failed()) {
      URI url = meshUrl.get();
      announced =
          url == null
              ? Future.failedFuture("this instance has no mesh URL")
              : presence.announce(url);
    }
    return announced;
  }

  /** A daemon of target key {@code tk} registered somewhere: its holder is looked up again. */
  void forgetRoute(String tk) {
    routes.remove(tk);
  }

  /**
   * Refreshes this instance's presence and its daemons', closes links idle or silent for the idle
   * time and pings the others.
   */
  void sweep(Iterable<Connection> daemons, long now) {
    if (on()) {
      announced = presence.announce(meshUrl.get());
      for (Connection d : daemons) {
        if (d.target != null && !d.closed) {
          presence.hold(d.workspace, d.target);
        }
      }
    }
    long idle = settings.idle().toNanos();
    for (MeshLink l : new ArrayList<>(allLinks)) {
      if (now - l.lastHeardNanos > idle || now - l.lastTrafficNanos > idle) {
        l.close(Switchboard.CLOSE_IDLE, RelayReason.RELAY_REASON_IDLE);
        linkDown(l);
      } else {
        l.ping();
      }
    }
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends a client's frame towards the daemon of its target when another mesh instance holds it.
   * False when it must go over the bus instead (mesh off, or nobody in the mesh holds the target).
   * While the holder is looked up the sender is held and the frame waits (so frames stay in order);
   * {@code viaBus} then sends it if nobody in the mesh holds the target.
   */
  boolean toDaemon(Connection from, RelayFrame f, Buffer raw, String tk, Runnable viaBus) {
    if (!on()) {
      return false;
    }
    Route r = routes.get(tk);
    long now = System.nanoTime();
    if (r == null
        || r.holder.failed()
        || (r.holder.succeeded() && r.holder.result() == null && now - r.askedNanos > MISS_NANOS)) {
      if (routes.size() >= MAX_ROUTES) {
        routes.clear();
      }
      Future<String> h =
          presence.holder(f.getWorkspaceId(), f.getTargetId()).recover(e -> nobody());
      r = new Route(h, now);
      routes.put(tk, r);
    }
    Future<String> holder = r.holder;
    if (holder.isComplete()) {
      return towardsHolder(from, f, raw, tk, holder.result());
    }
    from.hold();
    holder.onComplete(
        ar -> {
          if (!from.closed && !towardsHolder(from, f, raw, tk, ar.result())) {
            viaBus.run();
          }
          from.release();
        });
    return true;
  }

  private static Future<String> nobody() {
    return Future.succeededFuture(null);
  }

  private boolean towardsHolder(
      Connection from, RelayFrame f, Buffer raw, String tk, String holder) {
    if (holder == null || holder.equals(instance) || !RelayWire.validInstance(holder)) {
      return false;
    }
    linkTo(holder).send(MeshDirection.MESH_DIRECTION_DAEMON, f, raw, from, tk);
    return true;
  }

  /**
   * Sends a daemon's frame back over the link the channel's client frames came from; false when
   * none did (the client's instance is reached over the bus).
   */
  boolean toClient(Connection from, RelayFrame f, Buffer raw, String ck) {
    MeshLink l = channelLinks.get(ck);
    if (l == null) {
      return false;
    }
    if (l.isDown()) {
      channelLinks.remove(ck);
      return false;
    }
    l.send(MeshDirection.MESH_DIRECTION_CLIENT, f, raw, from, ck);
    if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
      channelLinks.remove(ck);
    }
    return true;
  }

  /** A frame of the channel came over the bus: its client is not behind a link (any more). */
  void forgetChannel(String ck) {
    channelLinks.remove(ck);
  }

  private MeshLink linkTo(String peer) {
    MeshLink l = links.get(peer);
    if (l != null && !l.isDown()) {
      return l;
    }
    MeshLink fresh = link(peer, true);
    links.put(peer, fresh);
    allLinks.add(fresh);
    announce()
        .compose(v -> presence.url(peer))
        .compose(url -> connect(peer, url))
        .onComplete(
            ar -> {
              if (ar.succeeded() && !fresh.isDown()) {
                wire(fresh, ar.result());
              } else {
                if (ar.succeeded()) {
                  ar.result().close();
                }
                log.atDebug()
                    .addKeyValue("peer", peer)
                    .addKeyValue("error", ar.failed() ? ar.cause().getMessage() : "closed")
                    .log("relay mesh link not opened");
                linkDown(fresh);
              }
            });
    return fresh;
  }

  private MeshLink link(String peer, boolean outbound) {
    return new MeshLink(
        peer,
        outbound,
        instance,
        metrics,
        settings.queueBytes(),
        settings.maxFrameBytes(),
        task -> context.runOnContext(v -> task.run()));
  }

  private Future<WebSocket> connect(String peer, String url) {
    URI uri;
    try {
      uri = url == null ? null : new URI(url);
    } catch (URISyntaxException e) {
      uri = null;
    }
    boolean tls = this.tls;
    if (uri == null
        || uri.getHost() == null
        || !(tls ? "wss".equals(uri.getScheme()) : "ws".equals(uri.getScheme()))) {
      // with TLS on, links only go to a peer whose certificate the CA signed
      return Future.failedFuture("peer " + peer + " has no usable mesh URL");
    }
    WebSocketConnectOptions o =
        new WebSocketConnectOptions()
            .setAbsoluteURI(uri.toString())
            // a proof for this peer only, never the credential (docs/relay.md, "Mesh link
            // authentication"): whoever a forged presence entry points here learns nothing usable
            .putHeader(MeshAuth.HEADER, auth.proof(peer))
            .putHeader(RelayWire.INSTANCE_HEADER, instance);
    return OnLoop.of(context, client.connect(o));
  }

  // ------------------------------------------------------------------ links

  /** Takes over an accepted link from {@code peer} (authenticated and known at the upgrade). */
  void accept(ServerWebSocket ws, String peer) {
    MeshLink l = link(peer, false);
    allLinks.add(l);
    MeshLink existing = links.get(peer);
    if (existing == null || existing.isDown()) {
      links.put(peer, l);
    }
    ws.exceptionHandler(SocketErrors.counted(ws, metrics));
    // the server is stopping: the peer's next frame reopens a link elsewhere or takes the bus
    ws.shutdownHandler(
        v -> {
          l.close(Switchboard.CLOSE_GOING_AWAY, RelayReason.RELAY_REASON_RELAY_STOPPING);
          linkDown(l);
        });
    wire(l, ws);
  }

  /** Whether {@code peer} is a live instance of the mesh other than this one. */
  Future<Boolean> knows(String peer) {
    if (!on() || peer.equals(instance)) {
      return Future.succeededFuture(false);
    }
    return presence.url(peer).map(url -> url != null);
  }

  private void linkFailed(Throwable e) {
    log.atDebug().addKeyValue("error", e.getClass().getSimpleName()).log("relay mesh link error");
  }

  private void wire(MeshLink l, WebSocketBase ws) {
    metrics.linkOpened();
    ws.frameHandler(
        new WholeMessages(
            settings.maxFrameBytes() + RelayWire.MESH_OVERHEAD_BYTES,
            b -> onLinkMessage(l, b),
            () -> {
              metrics.reject(Reject.TEXT_FRAME);
              l.close(Switchboard.CLOSE_UNSUPPORTED, RelayReason.RELAY_REASON_TEXT_FRAME);
              linkDown(l);
            },
            () -> {
              metrics.reject(Reject.OVERSIZED);
              l.close(Switchboard.CLOSE_TOO_BIG, RelayReason.RELAY_REASON_OVERSIZED);
              linkDown(l);
            }));
    ws.pongHandler(b -> l.lastHeardNanos = System.nanoTime());
    ws.closeHandler(v -> linkDown(l));
    if (!(ws instanceof ServerWebSocket)) {
      ws.exceptionHandler(this::linkFailed); // an accepted link keeps SocketErrors' handler
    }
    l.attach(ws);
    log.atDebug()
        .addKeyValue("peer", l.peer)
        .addKeyValue("outbound", l.outbound)
        .log("relay mesh link open");
  }

  private void linkDown(MeshLink l) {
    if (!allLinks.remove(l)) {
      return;
    }
    l.down();
    if (l.attached()) {
      metrics.linkClosed();
    }
    if (links.get(l.peer) == l) {
      links.remove(l.peer);
    }
    // routes through this peer are looked up again; channels behind it fall back to the bus
    routes.values().removeIf(r -> r.holder.succeeded() && l.peer.equals(r.holder.result()));
    channelLinks.values().removeIf(x -> x == l);
    fallback.forget(l);
  }

  /** A local connection went away: nothing waits for it, and peers it paused may send again. */
  void forget(Connection c) {
    for (MeshLink l : allLinks) {
      l.forget(c);
    }
    drained(c);
  }

  /** {@code c}'s queue drained: the peers it had paused may send again. */
  void drained(Connection c) {
    if (c.told.isEmpty()) {
      return;
    }
    List<MeshLink.Told> told = new ArrayList<>(c.told);
    c.told.clear();
    for (MeshLink.Told t : told) {
      t.link()
          .signal(MeshSignalKind.MESH_SIGNAL_KIND_RESUME, t.workspace(), t.target(), t.channel());
    }
  }

  // ------------------------------------------------------------------ receiving

  private void onLinkMessage(MeshLink l, Buffer buf) {
    long now = System.nanoTime();
    l.lastHeardNanos = now;
    if (buf.length() > settings.maxFrameBytes() + RelayWire.MESH_OVERHEAD_BYTES) {
      metrics.reject(Reject.OVERSIZED);
      l.close(Switchboard.CLOSE_TOO_BIG, RelayReason.RELAY_REASON_OVERSIZED);
      linkDown(l);
      return;
    }
    RelayBusBatch b;
    try {
      b = RelayWire.parseBatch(buf);
    } catch (InvalidProtocolBufferException e) {
      metrics.reject(Reject.MALFORMED);
      return;
    }
    if (!l.peer.equals(b.getOrigin())) {
      // a link speaks for the instance that was checked at its upgrade, and for no other
      metrics.reject(Reject.UNKNOWN_INSTANCE);
      l.close(CLOSE_POLICY, RelayReason.RELAY_REASON_UNKNOWN_INSTANCE);
      linkDown(l);
      return;
    }
    if (b.getFramesCount() + b.getSignalsCount() > MAX_BATCH_ITEMS) {
      metrics.reject(Reject.MALFORMED);
      return;
    }
    int[] spans;
    try {
      spans = RelayWire.batchFrameSpans(buf, b.getFramesCount());
    } catch (InvalidProtocolBufferException e) {
      metrics.reject(Reject.MALFORMED);
      return;
    }
    l.lastTrafficNanos = now;
    for (MeshSignal s : b.getSignalsList()) {
      onSignal(l, s);
    }
    for (int i = 0; i < b.getFramesCount(); i++) {
      RelayFrame f = b.getFrames(i);
      Reject bad = EnvelopeCheck.fromPeer(b.getTo(), f, l);
      if (bad != null) {
        metrics.reject(bad);
        continue;
      }
      metrics.meshIn();
      Buffer raw = buf.slice(spans[2 * i], spans[2 * i] + spans[2 * i + 1]);
      if (b.getTo() == MeshDirection.MESH_DIRECTION_DAEMON) {
        towardsLocalDaemon(l, f, raw);
      } else {
        towardsLocalClient(l, f, raw);
      }
    }
  }

  private void towardsLocalDaemon(MeshLink l, RelayFrame f, Buffer raw) {
    String ws = f.getWorkspaceId();
    String target = f.getTargetId();
    Connection d = board.localDaemon(l.keys.target(ws, target));
    if (d == null || d.closed) {
      // not (or no longer) here: the peer forgets the route; the frame goes on over the bus
      fallback.noRoute(l, f, 0, Topics.targetKey(ws, target), true);
      return;
    }
    String ck = l.keys.channel(ws, target, f.getChannelId());
    if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
      channelLinks.remove(ck);
    } else {
      if (channelLinks.size() >= MAX_ROUTES) {
        channelLinks.clear();
      }
      channelLinks.put(ck, l); // the daemon's answers go back the way the client's frames came
    }
    deliver(l, d, f, raw, 0);
  }

  private void towardsLocalClient(MeshLink l, RelayFrame f, Buffer raw) {
    String ck = l.keys.channel(f.getWorkspaceId(), f.getTargetId(), f.getChannelId());
    Connection c = board.localClient(ck);
    if (c == null || c.closed || !c.workspace.equals(f.getWorkspaceId())) {
      fallback.noRoute(l, f, f.getChannelId(), ck, false);
      return;
    }
    board.seenByClient(c, ck, f);
    deliver(l, c, f, raw, f.getChannelId());
    if (f.getType() == FrameType.FRAME_TYPE_CLOSE) {
      board.unbindChannel(ck);
    }
  }

  /** Delivers; a receiver now over its bound has the peer pause the route until it drains. */
  private void deliver(MeshLink l, Connection to, RelayFrame f, Buffer raw, long channel) {
    if (delivery.deliverFromLink(to, raw, () -> drained(to))) {
      MeshLink.Told t = new MeshLink.Told(l, f.getWorkspaceId(), f.getTargetId(), channel);
      if (to.told.add(t)) {
        l.signal(MeshSignalKind.MESH_SIGNAL_KIND_PAUSE, t.workspace(), t.target(), channel);
      }
    }
  }

  private void onSignal(MeshLink l, MeshSignal s) {
    MeshSignalKind kind = s.getKind();
    if (!EnvelopeCheck.validSignal(s)) {
      metrics.reject(Reject.BAD_FIELD);
      return;
    }
    metrics.signal(kind, false);
    String key =
        s.getChannelId() == 0
            ? Topics.targetKey(s.getWorkspaceId(), s.getTargetId())
            : Topics.channelKey(s.getWorkspaceId(), s.getTargetId(), s.getChannelId());
    switch (kind) {
      case MESH_SIGNAL_KIND_NO_ROUTE -> {
        if (s.getChannelId() == 0) {
          Route r = routes.get(key);
          if (r != null && r.holder.succeeded() && l.peer.equals(r.holder.result())) {
            routes.remove(key);
          }
        } else if (channelLinks.get(key) == l) {
          channelLinks.remove(key);
        }
      }
      case MESH_SIGNAL_KIND_PAUSE -> l.pause(key);
      case MESH_SIGNAL_KIND_RESUME -> l.resume(key);
      default -> metrics.reject(Reject.UNKNOWN_TYPE);
    }
  }

  /** Open links, either way (tests). */
  int links() {
    return allLinks.size();
  }
}
