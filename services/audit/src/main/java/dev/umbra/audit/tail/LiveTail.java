package dev.umbra.audit.tail;

import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.Subscription;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.revocation.Revoked;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fans stored events out to live tail clients. Subscribes to {@code umbra.audit.<workspace_id>}
 * through the bus while a workspace has at least one client (so events stored by any audit instance
 * arrive), and hands each message to that workspace's clients. A client whose send queue is full
 * loses the message (counted, and told how many it missed once it drains). Runs on the service's
 * event loop only.
 */
public final class LiveTail {
  /** What a connected client must do: accept a message now, or refuse it when its queue is full. */
  public interface Client {
    /** Returns false (and drops the message) when the client's bounded queue is full. */
    boolean offer(String json);

    /** The session the client opened the tail with (null for the deployment operator). */
    default SessionClaims session() {
      return null;
    }

    /** Ends the tail because its session was revoked. */
    default void revoked() {}
  }

  private final Bus bus;
  private final Counter dropped;
  private final Counter delivered;
  private final AtomicInteger clientCount = new AtomicInteger();
  private final Map<UUID, Set<Client>> clients = new HashMap<>();
  private final Map<UUID, Future<Subscription>> subscriptions = new HashMap<>();

  public LiveTail(Bus bus, MeterRegistry registry) {
    this.bus = bus;
    this.dropped =
        Counter.builder(Metrics.name("audit", "tail_dropped"))
            .tag("reason", "queue_full")
            .register(registry);
    this.delivered = Counter.builder(Metrics.name("audit", "tail_delivered")).register(registry);
    Gauge.builder(Metrics.name("audit", "tail_clients"), clientCount, AtomicInteger::get)
        .register(registry);
  }

  /** Adds a client; the future completes once the workspace's channel is subscribed. */
  public Future<Void> add(UUID workspace, Client client) {
    clients.computeIfAbsent(workspace, w -> new LinkedHashSet<>()).add(client);
    clientCount.incrementAndGet();
    Future<Subscription> sub =
        subscriptions.computeIfAbsent(
            workspace, w -> bus.subscribe(BusNames.AUDIT_LIVE_PREFIX + w, m -> deliver(w, m)));
    return sub.<Void>mapEmpty()
        .onFailure(
            e -> {
              subscriptions.remove(workspace, sub);
              remove(workspace, client);
            });
  }

  /**
   * Ends the tails of the workspace whose session {@code r} voids (docs/audit.md); returns how
   * many.
   */
  public int revoke(Revoked r) {
    Set<Client> set = clients.get(r.workspaceId());
    if (set == null) {
      return 0;
    }
    int n = 0;
    for (Client c : new ArrayList<>(set)) {
      if (c.session() != null && r.endsLive(c.session())) {
        remove(r.workspaceId(), c);
        c.revoked();
        n++;
      }
    }
    return n;
  }

  public void remove(UUID workspace, Client client) {
    Set<Client> set = clients.get(workspace);
    if (set == null || !set.remove(client)) {
      return;
    }
    clientCount.decrementAndGet();
    if (set.isEmpty()) {
      clients.remove(workspace);
      Future<Subscription> sub = subscriptions.remove(workspace);
      if (sub != null) {
        sub.onSuccess(Subscription::unsubscribe);
      }
    }
  }

  private void deliver(UUID workspace, BusMessage message) {
    Set<Client> set = clients.get(workspace);
    if (set == null) {
      return;
    }
    // a live message is one or more events as JSON lines
    for (String json : message.body().toString().split("\n")) {
      if (json.isEmpty()) {
        continue;
      }
      for (Client c : new ArrayList<>(set)) {
        if (c.offer(json)) {
          delivered.increment();
        } else {
          dropped.increment();
        }
      }
    }
  }

  /** Unsubscribes everything (service stop). */
  public Future<Void> close() {
    List<Future<Void>> all = new ArrayList<>();
    subscriptions
        .values()
        .forEach(
            f ->
                all.add(
                    f.compose(Subscription::unsubscribe).recover(e -> Future.succeededFuture())));
    subscriptions.clear();
    clients.clear();
    clientCount.set(0);
    return Future.join(all).mapEmpty();
  }
}
