package dev.umbra.relay.routing;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.SealedNotices;
import dev.umbra.kit.bus.SealedNotices.Refusal;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayBusBatch;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;

/**
 * The takeover protocol between instances (docs/relay.md, "Takeover notices"): a daemon that
 * registers here is announced on its target's topic, where an instance holding an older connection
 * of the same target closes it ({@code 4000 replaced}), and on {@code umbra.relay.routes}, where
 * every mesh drops its cached route to the target. On the relay's event loop.
 *
 * <p>A notice closes a live connection, so it is sealed ({@link SealedNotices}, domain {@code
 * umbra-relay-takeover/v1}, bound to the topic it is published on) under the instances' internal
 * credential: a notice is acted on only when MAC'd, in time and new, checked before it is parsed.
 * Refusals are counted ({@code umbra_relay_bus_notices_refused_total{type="takeover",reason}});
 * neither the body nor the key is logged.
 */
final class Takeovers {
  /** Largest notice: an origin (ULID), a workspace (UUID), a target, a time; generously. */
  static final int MAX_NOTICE = 512;

  /** A verified notice: the instance it came from and the REGISTER frame it carries. */
  record Notice(String origin, RelayFrame register) {}

  private final Switchboard board;
  private final Bus bus;
  private final String instance;
  private final Mesh mesh;
  private final RelayMetrics metrics;
  private final SealedNotices seals;

  Takeovers(
      Switchboard board,
      Bus bus,
      String instance,
      Mesh mesh,
      RelayMetrics metrics,
      String credential,
      Clock clock) {
    this.board = board;
    this.bus = bus;
    this.instance = instance;
    this.mesh = mesh;
    this.metrics = metrics;
    this.seals =
        new SealedNotices(
            credential, CryptoConstants.RELAY_TAKEOVER_DOMAIN, MAX_NOTICE, clock::millis);
  }

  /** Whether a body on a target's topic is a sealed notice (never a protobuf tag: field 0). */
  static boolean sealed(Buffer body) {
    return body.length() > 0 && body.getByte(0) == CryptoConstants.BUS_SEAL_VERSION;
  }

  /**
   * Tells the other instances that daemon {@code c} registered here (at {@code c.registeredAt}):
   * they drop older connections of its target, and the mesh its cached route to the target.
   */
  Future<Void> announce(Connection c) {
    byte[] notice =
        RelayBusBatch.newBuilder()
            .setOrigin(instance)
            .addFrames(
                RelayFrame.newBuilder()
                    .setType(FrameType.FRAME_TYPE_REGISTER)
                    .setWorkspaceId(c.workspace)
                    .setTargetId(c.target)
                    .setSequence(c.registeredAt))
            .build()
            .toByteArray();
    String topic = Topics.targetTopic(c.workspace, c.target);
    return bus.publish(topic, seals.seal(topic, notice))
        .compose(n -> mesh.announceTakeover(seals.seal(BusNames.RELAY_ROUTES, notice)));
  }

  /**
   * A sealed notice on the topic of target key {@code tk} ({@code topic}): the daemon of that
   * target held here is replaced unless it registered after the notice's daemon, or is this
   * instance's.
   */
  void onTarget(String tk, String topic, Buffer body) {
    Notice n = open(topic, body);
    if (n == null) {
      return;
    }
    RelayFrame f = n.register();
    if (!Topics.targetKey(f.getWorkspaceId(), f.getTargetId()).equals(tk)) {
      refused(Refusal.MALFORMED);
      return;
    }
    Connection d = board.localDaemon(tk);
    if (!instance.equals(n.origin()) && d != null && d.registeredAt <= f.getSequence()) {
      board.replaced(d);
    }
  }

  /** A notice on {@code umbra.relay.routes}: the mesh forgets its cached route to the target. */
  void onRoutes(BusMessage m) {
    Notice n = open(BusNames.RELAY_ROUTES, m.body());
    if (n != null) {
      RelayFrame f = n.register();
      mesh.forgetRoute(Topics.targetKey(f.getWorkspaceId(), f.getTargetId()));
    }
  }

  /** An unsealed REGISTER among the frames of a target's topic: not acted on, counted. */
  void unsealed() {
    refused(Refusal.UNKNOWN_VERSION);
  }

  /**
   * The notice of {@code body} received on {@code channel}, or null when refused (counted): sealed,
   * in time and new, then one REGISTER frame from a named instance for a valid target.
   */
  private Notice open(String channel, Buffer body) {
    SealedNotices.Opened o = seals.open(channel, body);
    if (o.refusal() != null) {
      return refused(o.refusal());
    }
    try {
      RelayBusBatch b = RelayBusBatch.parseFrom(o.notice());
      if (b.getFramesCount() != 1 || !RelayWire.validInstance(b.getOrigin())) {
        return refused(Refusal.MALFORMED);
      }
      RelayFrame f = b.getFrames(0);
      if (f.getType() != FrameType.FRAME_TYPE_REGISTER || !RelayWire.validTarget(f.getTargetId())) {
        return refused(Refusal.MALFORMED);
      }
      return new Notice(b.getOrigin(), f);
    } catch (InvalidProtocolBufferException e) {
      return refused(Refusal.MALFORMED);
    }
  }

  private Notice refused(Refusal r) {
    metrics.noticeRefused(r);
    return null;
  }
}
