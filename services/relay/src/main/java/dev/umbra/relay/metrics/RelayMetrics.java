package dev.umbra.relay.metrics;

import dev.umbra.kit.bus.SealedNotices.Refusal;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.MeshSignalKind;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;
import dev.umbra.relay.wire.MeshRefusal;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The relay's meters (tags are envelope metadata only): connections and channels (gauges), frames
 * and bytes by type, rejections by reason, drops by reason, cross-instance hops, mesh links, link
 * frames and route signals.
 */
public final class RelayMetrics {
  public static final String TAG_TYPE = "type";
  public static final String TAG_REASON = "reason";
  public static final String TAG_ROLE = "role";
  public static final String TAG_DIRECTION = "direction";
  public static final String TAG_KIND = "kind";

  /** Why a routable frame was not delivered: a {@link RelayReason} of the wire table. */
  public enum Drop {
    QUEUE_FULL(RelayReason.RELAY_REASON_QUEUE_FULL),
    NO_ROUTE(RelayReason.RELAY_REASON_NO_ROUTE),
    BUS_ERROR(RelayReason.RELAY_REASON_BUS_ERROR),
    LINK_DOWN(RelayReason.RELAY_REASON_LINK_DOWN);

    final String tag;

    Drop(RelayReason reason) {
      this.tag = RelayReasons.wire(reason);
    }
  }

  /**
   * What a relay holds back when a peer keeps sending frames for a daemon or client it does not
   * hold (docs/relay.md, "Mesh"): the repeated {@code no_route} signal, the frame's bus publish
   * once the bus said nobody listens, a frame over the bound of those waiting for that answer.
   */
  public enum Suppressed {
    NO_ROUTE_SIGNAL("no_route_signal"),
    NO_ROUTE_PUBLISH("no_route_publish"),
    NO_ROUTE_BACKLOG("no_route_backlog");

    final String tag;

    Suppressed(String tag) {
      this.tag = tag;
    }
  }

  private final MeterRegistry registry;
  private final Map<Suppressed, Counter> suppressed = new EnumMap<>(Suppressed.class);
  private final AtomicInteger daemons = new AtomicInteger();
  private final AtomicInteger clients = new AtomicInteger();
  private final AtomicInteger channels = new AtomicInteger();
  private final Map<FrameType, Counter> frames = new EnumMap<>(FrameType.class);
  private final Map<FrameType, Counter> bytes = new EnumMap<>(FrameType.class);
  private final Map<Reject, Counter> rejections = new EnumMap<>(Reject.class);
  private final Map<Drop, Counter> drops = new EnumMap<>(Drop.class);
  private final Map<MeshRefusal, Counter> meshRefusals = new EnumMap<>(MeshRefusal.class);
  private final Map<Refusal, Counter> noticesRefused = new EnumMap<>(Refusal.class);
  private final Counter hopsOut;
  private final Counter hopsIn;
  private final Counter revokedClosed;
  private final Counter trustHints;
  private final Counter meshOut;
  private final Counter meshIn;
  private final AtomicInteger meshLinks = new AtomicInteger();
  private final Map<MeshSignalKind, Counter> signalsSent = new EnumMap<>(MeshSignalKind.class);
  private final Map<MeshSignalKind, Counter> signalsReceived = new EnumMap<>(MeshSignalKind.class);

  public RelayMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder(Metrics.name("relay", "connections"), daemons, AtomicInteger::get)
        .tag(TAG_ROLE, "daemon")
        .register(registry);
    Gauge.builder(Metrics.name("relay", "connections"), clients, AtomicInteger::get)
        .tag(TAG_ROLE, "client")
        .register(registry);
    Gauge.builder(Metrics.name("relay", "channels"), channels, AtomicInteger::get)
        .description("client channels routed by this instance")
        .register(registry);
    for (FrameType t : FrameType.values()) {
      frames.put(
          t,
          Counter.builder(Metrics.name("relay", "frames"))
              .tag(TAG_TYPE, RelayWire.tag(t))
              .register(registry));
      bytes.put(
          t,
          Counter.builder(Metrics.name("relay", "frame.bytes"))
              .tag(TAG_TYPE, RelayWire.tag(t))
              .register(registry));
    }
    for (Reject r : Reject.values()) {
      rejections.put(
          r,
          Counter.builder(Metrics.name("relay", "rejections"))
              .tag(TAG_REASON, r.tag())
              .register(registry));
    }
    for (Drop d : Drop.values()) {
      drops.put(
          d,
          Counter.builder(Metrics.name("relay", "drops"))
              .tag(TAG_REASON, d.tag)
              .register(registry));
    }
    registerRefusals();
    hopsOut =
        Counter.builder(Metrics.name("relay", "hops")).tag(TAG_DIRECTION, "out").register(registry);
    hopsIn =
        Counter.builder(Metrics.name("relay", "hops")).tag(TAG_DIRECTION, "in").register(registry);
    revokedClosed =
        Counter.builder(Metrics.name("relay", "revoked.connections")).register(registry);
    trustHints = Counter.builder(Metrics.name("relay", "trust.hints")).register(registry);
    meshOut =
        Counter.builder(Metrics.name("relay", "mesh.frames"))
            .tag(TAG_DIRECTION, "out")
            .register(registry);
    meshIn =
        Counter.builder(Metrics.name("relay", "mesh.frames"))
            .tag(TAG_DIRECTION, "in")
            .register(registry);
    Gauge.builder(Metrics.name("relay", "mesh.links"), meshLinks, AtomicInteger::get)
        .description("open links to other relay instances, either way")
        .register(registry);
    for (Suppressed r : Suppressed.values()) {
      suppressed.put(
          r,
          Counter.builder(Metrics.name("relay", "mesh.no_route.suppressed"))
              .tag(TAG_REASON, r.tag)
              .register(registry));
    }
    for (MeshSignalKind k : MeshSignalKind.values()) {
      if (k == MeshSignalKind.UNRECOGNIZED || k == MeshSignalKind.MESH_SIGNAL_KIND_UNSPECIFIED) {
        continue;
      }
      String kind = k.name().substring("MESH_SIGNAL_KIND_".length()).toLowerCase();
      signalsSent.put(k, signal(kind, "sent"));
      signalsReceived.put(k, signal(kind, "received"));
    }
  }

  /** Mesh proofs and takeover notices refused, by reason. */
  private void registerRefusals() {
    for (MeshRefusal r : MeshRefusal.values()) {
      meshRefusals.put(
          r,
          Counter.builder(Metrics.name("relay", "mesh.refusals"))
              .description("mesh link upgrades refused at the proof, by reason")
              .tag(TAG_REASON, r.tag())
              .register(registry));
    }
    for (Refusal r : Refusal.values()) {
      noticesRefused.put(
          r,
          Counter.builder(Metrics.name("relay", "bus.notices.refused"))
              .description("sealed takeover notices from the bus refused before they acted")
              .tag(TAG_TYPE, "takeover")
              .tag(TAG_REASON, r.tag)
              .register(registry));
    }
  }

  private Counter signal(String kind, String direction) {
    return Counter.builder(Metrics.name("relay", "mesh.signals"))
        .tag(TAG_KIND, kind)
        .tag(TAG_DIRECTION, direction)
        .register(registry);
  }

  public void connected(boolean daemon) {
    (daemon ? daemons : clients).incrementAndGet();
  }

  public void disconnected(boolean daemon) {
    (daemon ? daemons : clients).decrementAndGet();
  }

  public void channelOpened() {
    channels.incrementAndGet();
  }

  public void channelClosed() {
    channels.decrementAndGet();
  }

  /** A frame accepted from a connection. */
  public void frame(FrameType type, int size) {
    frames.get(type).increment();
    bytes.get(type).increment(size);
  }

  public void reject(Reject reason) {
    rejections.get(reason).increment();
  }

  /** A mesh link's proof refused (docs/relay.md, "Mesh link authentication"). */
  public void meshRefused(MeshRefusal reason) {
    meshRefusals.get(reason).increment();
  }

  public void drop(Drop reason) {
    drops.get(reason).increment();
  }

  /** {@code frames} frames dropped at once (a mesh batch). */
  public void drop(Drop reason, int frames) {
    if (frames > 0) {
      drops.get(reason).increment(frames);
    }
  }

  /** Frames sent to / received from another instance over the bus. */
  public void hopOut(int frameCount) {
    hopsOut.increment(frameCount);
  }

  public void hopIn(int frameCount) {
    hopsIn.increment(frameCount);
  }

  /** Frames sent to / received from another instance over a mesh link (also counted as hops). */
  public void meshOut() {
    meshOut.increment();
    hopsOut.increment();
  }

  public void meshIn() {
    meshIn.increment();
    hopsIn.increment();
  }

  public double meshFramesOut() {
    return meshOut.count();
  }

  public double meshFramesIn() {
    return meshIn.count();
  }

  public void linkOpened() {
    meshLinks.incrementAndGet();
  }

  public void linkClosed() {
    meshLinks.decrementAndGet();
  }

  public int meshLinks() {
    return meshLinks.get();
  }

  /** A mesh route signal sent to ({@code sent}) or received from another instance. */
  public void signal(MeshSignalKind kind, boolean sent) {
    Counter c = (sent ? signalsSent : signalsReceived).get(kind);
    if (c != null) {
      c.increment();
    }
  }

  public double signals(MeshSignalKind kind, boolean sent) {
    Counter c = (sent ? signalsSent : signalsReceived).get(kind);
    return c == null ? 0 : c.count();
  }

  /** A repeated no_route answer held back (see {@link Suppressed}). */
  public void suppressed(Suppressed what) {
    suppressed.get(what).increment();
  }

  public double suppressions(Suppressed what) {
    return suppressed.get(what).count();
  }

  public void revoked() {
    revokedClosed.increment();
  }

  /** A TRUST_CHANGED frame sent to a daemon after a revocation or rotation in its workspace. */
  public void trustHint() {
    trustHints.increment();
  }

  public double trustHints() {
    return trustHints.count();
  }

  public double rejections(Reject reason) {
    return rejections.get(reason).count();
  }

  /** A takeover notice from the bus refused before it acted ({@link Refusal}). */
  public void noticeRefused(Refusal reason) {
    noticesRefused.get(reason).increment();
  }

  public double noticesRefused(Refusal reason) {
    return noticesRefused.get(reason).count();
  }

  public double meshRefusals(MeshRefusal reason) {
    return meshRefusals.get(reason).count();
  }

  public double drops(Drop reason) {
    return drops.get(reason).count();
  }

  public double hopsIn() {
    return hopsIn.count();
  }

  public double hopsOut() {
    return hopsOut.count();
  }

  public int channels() {
    return channels.get();
  }

  public MeterRegistry registry() {
    return registry;
  }
}
