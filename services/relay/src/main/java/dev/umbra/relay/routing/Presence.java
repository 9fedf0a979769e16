package dev.umbra.relay.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusNames;
import io.vertx.core.Context;
import io.vertx.core.Future;
import java.net.URI;
import java.time.Duration;

/**
 * The mesh's presence in Redis (docs/relay.md, "Mesh"): which instance holds the daemon of a
 * target, and where each instance's mesh endpoint is. Expiring keys, written at REGISTER and at
 * every ping sweep with a TTL of two ping periods, so a dead instance's presence vanishes on its
 * own; a clean close deletes a daemon's key only while it still names this instance. Results come
 * back on the relay's event loop.
 */
final class Presence {
  private final Bus bus;
  private final Context context;
  private final String instance;
  private final Duration ttl;

  Presence(Bus bus, Context context, String instance, Duration ping) {
    this.bus = bus;
    this.context = context;
    this.instance = instance;
    this.ttl = ping.multipliedBy(2);
  }

  /** Publishes this instance's mesh URL. */
  Future<Void> announce(URI meshUrl) {
    return OnLoop.of(
        context, bus.putExpiring(BusNames.relayInstance(instance), meshUrl.toString(), ttl));
  }

  /** Says this instance holds the daemon of {@code target}. */
  Future<Void> hold(String workspace, String target) {
    return OnLoop.of(
        context, bus.putExpiring(BusNames.relayPresence(workspace, target), instance, ttl));
  }

  /** Withdraws {@link #hold} unless another instance wrote the key since. */
  Future<Void> release(String workspace, String target) {
    return OnLoop.of(
            context, bus.deleteIfHolds(BusNames.relayPresence(workspace, target), instance))
        .<Void>mapEmpty()
        .recover(e -> Future.succeededFuture());
  }

  /** The instance holding the daemon of {@code target}; null when none says so. */
  Future<String> holder(String workspace, String target) {
    return OnLoop.of(context, bus.get(BusNames.relayPresence(workspace, target)));
  }

  /** The mesh URL of a live instance; null when it has none (or is gone). */
  Future<String> url(String peer) {
    return OnLoop.of(context, bus.get(BusNames.relayInstance(peer)));
  }
}
