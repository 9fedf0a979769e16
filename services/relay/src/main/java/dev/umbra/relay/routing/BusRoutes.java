package dev.umbra.relay.routing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.Subscription;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.HashMap;
import java.util.Map;

/**
 * The bus subscriptions of an instance's routes (docs/relay.md, "Routing"): one per registered
 * target (frames towards its daemon, takeover notices) and one per channel bound to a local client
 * (frames towards it). On the relay's event loop.
 */
final class BusRoutes {
  private final Bus bus;
  private final Context context;
  private final Map<String, Future<Subscription>> targets = new HashMap<>();
  private final Map<String, Future<Subscription>> channels = new HashMap<>();

  BusRoutes(Bus bus, Context context) {
    this.bus = bus;
    this.context = context;
  }

  /** The subscription of target key {@code tk}, made on first use (again after a failure). */
  Future<Subscription> target(
      String tk, String workspace, String target, Handler<BusMessage> handler) {
    Future<Subscription> sub = targets.get(tk);
    if (sub == null || sub.failed()) {
      sub = bus.subscribe(Topics.targetTopic(workspace, target), handler);
      targets.put(tk, sub);
    }
    return sub;
  }

  void dropTarget(String tk) {
    Future<Subscription> sub = targets.remove(tk);
    if (sub != null) {
      sub.onSuccess(Subscription::unsubscribe);
    }
  }

  /** Whether channel key {@code ck} is subscribed already. */
  boolean channelReady(String ck) {
    Future<Subscription> sub = channels.get(ck);
    return sub != null && sub.succeeded();
  }

  /** The subscription of channel key {@code ck}, made on first use (again after a failure). */
  Future<Subscription> channel(
      String ck, String workspace, String target, long channel, Handler<BusMessage> handler) {
    Future<Subscription> sub = channels.get(ck);
    if (sub == null || sub.failed()) {
      sub = bus.subscribe(Topics.channelTopic(workspace, target, channel), handler);
      channels.put(ck, sub);
      Future<Subscription> mine = sub;
      OnLoop.of(context, sub)
          .onSuccess(
              s -> {
                if (channels.get(ck) != mine) {
                  s.unsubscribe(); // unbound while subscribing
                }
              });
    }
    return sub;
  }

  void dropChannel(String ck) {
    Future<Subscription> sub = channels.remove(ck);
    if (sub != null) {
      sub.onSuccess(Subscription::unsubscribe);
    }
  }
}
