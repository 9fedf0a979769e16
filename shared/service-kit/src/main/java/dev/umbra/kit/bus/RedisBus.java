package dev.umbra.kit.bus;

import dev.umbra.kit.bus.SubscriberLosses.Reason;
import dev.umbra.kit.config.RedisUrl;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import io.vertx.redis.client.impl.types.ErrorType;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bus over Redis: PUBLISH/SUBSCRIBE for fan-out, streams with consumer groups (XADD,
 * XREADGROUP, XACK, XAUTOCLAIM) for durable delivery, SET PX / GET / a compare-and-delete script
 * for presence keys. Stream and key commands share a pooled client. Publishes go over one dedicated
 * connection, pipelined (no waiting for a reply before the next one), which is what keeps them in
 * call order; it is reopened on the next publish after a failure. Subscriptions use another
 * dedicated connection that is re-established with backoff, re-subscribing everything.
 *
 * <p>An optional name prefix (UMBRA_BUS_PREFIX) isolates test runs sharing one Redis.
 *
 * <p>Where Redis is comes from {@link RedisUrl}: one node (the commands above), a Sentinel set (the
 * same commands on whichever node the Sentinels name master; connections closed by a failover are
 * reopened there) or a Cluster, where pub/sub is sharded (SPUBLISH/SSUBSCRIBE: each channel lives
 * on the master of its slot) and pattern subscriptions are refused. Every command touches one key,
 * so none crosses slots (docs/configuration.md).
 */
public final class RedisBus implements Bus {
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);
  private static final Logger log = LoggerFactory.getLogger(RedisBus.class);
  private static final long MAX_BACKOFF_MS = 5_000;

  private final Vertx vertx;
  private final Redis client;
  private final RedisOptions options;
  private final String prefix;
  private final RedisUrl url;

  /** On a Cluster: sharded pub/sub (SPUBLISH, SSUBSCRIBE), no pattern subscriptions. */
  private final boolean sharded;

  private final Command subscribe;
  private final TopicRegistry<Listener, Future<Void>> channels;
  private final TopicRegistry<Listener, Future<Void>> patterns =
      new TopicRegistry<>(redisCommands(Command.PSUBSCRIBE, Command.PUNSUBSCRIBE));
  private volatile Future<RedisConnection> subscriber;

  /** The client of {@link #subscriber}; guarded by this bus's monitor. */
  private Redis subscriberClient;

  /** Which subscriber connection is current; guarded by this bus's monitor for writes. */
  private volatile long generation;

  /** The last queued (P)SUBSCRIBE/(P)UNSUBSCRIBE; guarded by this bus's monitor. */
  private Future<Void> commands = Future.succeededFuture();

  private final OwnUnsubscribes ownUnsubscribes = new OwnUnsubscribes();
  private final LossListeners lossListeners = new LossListeners(); // onSubscriptionsLost
  private final RedisPublisher publisher;
  private final RedisLiveness liveness;
  private final SubscriberLosses losses;
  private final RedisStreams streams = new RedisStreams(this::send, this::batch, this::key);
  private final RedisKeys keys = new RedisKeys(this::send, this::key);

  /** The subscriber connection was lost and is not back yet (then {@link #ping} fails). */
  private volatile boolean subscriberLost;

  private volatile boolean closed;

  private record Listener(Context context, Handler<BusMessage> handler) {}

  private RedisBus(
      Vertx vertx, URI url, String prefix, RedisLiveness liveness, MeterRegistry registry) {
    this.vertx = vertx;
    this.liveness = liveness;
    this.losses = new SubscriberLosses(registry);
    this.prefix = prefix;
    this.url = RedisUrl.parse(url);
    this.sharded = this.url.mode() == RedisUrl.Mode.CLUSTER;
    this.subscribe = sharded ? Command.SSUBSCRIBE : Command.SUBSCRIBE;
    this.channels =
        new TopicRegistry<>(
            redisCommands(subscribe, sharded ? Command.SUNSUBSCRIBE : Command.UNSUBSCRIBE));
    this.options =
        RedisTopology.options(this.url, url)
            .setPreferredProtocolVersion(ProtocolVersion.RESP2)
            .setMaxPoolSize(32)
            .setMaxPoolWaiting(1024);
    this.client = Redis.createClient(vertx, options);
    this.publisher = new RedisPublisher(vertx, options, liveness.lostAfter());
  }

  /**
   * Creates the bus without waiting for Redis: connections are made on use, so a service can start
   * while Redis is down and report it on /healthz.
   */
  public static RedisBus create(Vertx vertx, URI url, String prefix) {
    return create(vertx, url, prefix, RedisLiveness.DEFAULT);
  }

  /** As {@link #create(Vertx, URI, String)}, noticing a silent Redis as {@code liveness} says. */
  public static RedisBus create(Vertx vertx, URI url, String prefix, RedisLiveness liveness) {
    return create(vertx, url, prefix, liveness, new SimpleMeterRegistry());
  }

  /** As above, counting subscriber connection losses in {@code registry} (SubscriberLosses). */
  public static RedisBus create(
      Vertx vertx, URI url, String prefix, RedisLiveness liveness, MeterRegistry registry) {
    return new RedisBus(vertx, url, prefix, liveness, registry);
  }

  /** Creates the bus and checks Redis answers; fails when it does not. */
  public static Future<RedisBus> connect(Vertx vertx, URI url, String prefix) {
    RedisBus bus = create(vertx, url, prefix, RedisLiveness.DEFAULT);
    String where = "Redis at " + bus.url.describe() + " is unreachable (";
    return bus.ping()
        .map(bus)
        .recover(
            e ->
                bus.close()
                    .transform(
                        x ->
                            Future.failedFuture(
                                new BusException(
                                    where
                                        + e.getMessage()
                                        + "); start Redis or set UMBRA_REDIS_URL",
                                    e))));
  }

  private String key(String name) {
    return prefix + name;
  }

  private Future<Response> send(Request request) {
    return send(request, Duration.ZERO);
  }

  /**
   * Sends on the pooled client; fails when no answer came within the liveness timeout plus {@code
   * blocking} (how long the command itself may wait in Redis), so a Redis that went silent makes
   * commands fail instead of hang.
   */
  private Future<Response> send(Request request, Duration blocking) {
    if (closed) {
      return Future.failedFuture(new BusException("Redis bus is closed"));
    }
    try {
      return bounded(client.send(request), blocking);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** Several commands pipelined on one pooled connection, one write; bounded as a command. */
  private Future<List<Response>> batch(List<Request> requests) {
    if (closed) {
      return Future.failedFuture(new BusException("Redis bus is closed"));
    }
    return bounded(client.batch(requests), Duration.ZERO);
  }

  private <T> Future<T> bounded(Future<T> f, Duration blocking) {
    return f.timeout(liveness.lostAfter().plus(blocking).toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public Future<Long> publish(String channel, Buffer message) {
    try {
      Bus.checkName(channel);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    Command command = sharded ? Command.SPUBLISH : Command.PUBLISH;
    return publisher
        .send(Request.cmd(command).arg(key(channel)).arg(message))
        .map(Response::toLong);
  }

  @Override
  public void onSubscriptionsLost(Handler<Void> handler) {
    lossListeners.add(vertx.getOrCreateContext(), handler);
  }

  @Override
  public Future<Subscription> subscribe(String channel, Handler<BusMessage> handler) {
    return listen(channels, channel, handler);
  }

  @Override
  public Future<Subscription> subscribePattern(String pattern, Handler<BusMessage> handler) {
    if (sharded) {
      // sharded pub/sub has no patterns, and a PSUBSCRIBE would never see an SPUBLISH
      return Future.failedFuture(
          new BusException(
              "pattern subscriptions are not available on a Redis Cluster; subscribe to channels"));
    }
    return listen(patterns, pattern, handler);
  }

  /**
   * A listener joins its channel or pattern in the registry, which queues the SUBSCRIBE of the
   * first one; later listeners wait for that same SUBSCRIBE reply. The registry orders listener
   * changes and their commands, so an unsubscribe racing a subscribe of the same name from another
   * context can neither lose the new listener nor leave Redis unsubscribed while a listener waits.
   */
  private Future<Subscription> listen(
      TopicRegistry<Listener, Future<Void>> registry, String name, Handler<BusMessage> handler) {
    try {
      Bus.checkName(name);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    TopicRegistry.Registration<Listener, Future<Void>> registration =
        registry.add(key(name), new Listener(vertx.getOrCreateContext(), handler));
    return registration
        .subscribed()
        .<Subscription>map(
            v -> () -> registry.remove(registration).orElseGet(Future::succeededFuture))
        // a failed SUBSCRIBE is not reused: the next subscriber of the name tries again
        .onFailure(e -> registry.abandon(registration));
  }

  /**
   * The registry's commands as Redis commands on the subscriber connection, queued in the order the
   * registry issues them.
   */
  private TopicRegistry.Commands<Future<Void>> redisCommands(Command sub, Command unsub) {
    return new TopicRegistry.Commands<>() {
      @Override
      public Future<Void> subscribe(String k) {
        // its own bound and the next connection's: subscribeOrAwaitNext
        return queue(() -> subscribeOrAwaitNext(sub, k), liveness.lostAfter());
      }

      @Override
      public Future<Void> unsubscribe(String k) {
        return queue(
            () -> {
              Future<RedisConnection> c = subscriber;
              // a new subscriber connection subscribes only to what is registered
              if (c == null || c.failed()) {
                return Future.succeededFuture();
              }
              if (unsub == Command.SUNSUBSCRIBE) {
                ownUnsubscribes.sent(generation, k);
              }
              return c.compose(conn -> conn.send(Request.cmd(unsub).arg(k)));
            });
      }
    };
  }

  /**
   * SUBSCRIBEs {@code k} on the subscriber connection. When that connection died under it (Redis
   * closed it before this bus saw its end: "connection is closed", or no reply within the liveness
   * timeout), the connection is dropped now and the next one answers instead: it subscribes every
   * registered name, {@code k} too. So a subscribe made just as the connection was killed is not
   * refused. A refusal by Redis itself (an error reply) still fails it.
   */
  private Future<Void> subscribeOrAwaitNext(Command sub, String k) {
    Future<RedisConnection> conn;
    long gen;
    Redis single;
    synchronized (this) {
      conn = subscriberConnection();
      gen = generation;
      single = subscriberClient;
    }
    return conn.compose(c -> bounded(c.send(Request.cmd(sub).arg(k)), Duration.ZERO))
        .<Void>mapEmpty()
        .recover(
            e -> {
              if (closed || conn.failed() || e instanceof ErrorType) {
                return Future.failedFuture(e);
              }
              replaceSubscriber(gen, single, Reason.CLOSED, "connection lost");
              return subscriberConnection().mapEmpty();
            });
  }

  /**
   * Runs {@code command} after every (UN)SUBSCRIBE queued before it ended, so Redis sees them in
   * the order the registry changed (the registries hold their monitor: one name's order; this one
   * orders channels and patterns). Each is bounded: the Redis client completes none whose write
   * failed (a dying connection), and one that never ends would hold back every later one.
   */
  private synchronized Future<Void> queue(java.util.function.Supplier<Future<?>> command) {
    return queue(command, Duration.ZERO);
  }

  /** As above, the command bounded by the liveness timeout plus {@code extra}. */
  private synchronized Future<Void> queue(
      java.util.function.Supplier<Future<?>> command, Duration extra) {
    Future<Void> next = commands.transform(x -> bounded(command.get(), extra)).mapEmpty();
    commands = next;
    return next;
  }

  private synchronized Future<RedisConnection> subscriberConnection() {
    if (closed) {
      return Future.failedFuture(new BusException("Redis bus is closed"));
    }
    Future<RedisConnection> current = subscriber;
    if (current == null || current.failed()) {
      // a new client, so on a Cluster a fresh slot map; RESP3: messages are pushes, told from
      // replies by type (a PING's may still reach the handler)
      subscriberClient =
          Redis.createClient(
              vertx,
              RedisTopology.dedicated(options).setPreferredProtocolVersion(ProtocolVersion.RESP3));
      current = openSubscriber(++generation, subscriberClient);
      subscriber = current;
    }
    return current;
  }

  /**
   * A new subscriber connection of {@code single}, subscribed to every registered name. {@code gen}
   * tells its events from those of connections it replaced: those are ignored, so a replaced
   * connection neither delivers twice nor drops its successor.
   */
  private Future<RedisConnection> openSubscriber(long gen, Redis single) {
    SubscriberProbe probe =
        new SubscriberProbe(
            vertx,
            liveness,
            () -> !closed && gen == generation,
            why -> replaceSubscriber(gen, single, Reason.SILENT, why));
    Future<RedisConnection> opened =
        single
            .connect()
            .compose(
                conn -> {
                  probe.start(conn, sharded, channels::names, ch -> resubscribe(conn, ch));
                  return subscribeAll(gen, single, conn, probe);
                });
    // a Redis that accepts the connection but never answers must not stall resubscribing
    return bounded(opened, Duration.ZERO)
        .onSuccess(c -> subscriberLost = false)
        .onFailure(e -> single.close());
  }

  /** SubscriberProbe's echo: SSUBSCRIBE {@code ch} again, queued, if still listened to. */
  private Future<Boolean> resubscribe(RedisConnection conn, String ch) {
    Promise<Boolean> sent = Promise.promise();
    queue(
            () ->
                channels.listeners(ch).isEmpty()
                    ? Future.succeededFuture()
                    : conn.send(Request.cmd(Command.SSUBSCRIBE).arg(ch))
                        .andThen(x -> sent.tryComplete(x.succeeded())))
        .onComplete(x -> sent.tryComplete(false));
    return sent.future();
  }

  /** Hooks the connection's events and subscribes every registered name on it. */
  private Future<RedisConnection> subscribeAll(
      long gen, Redis single, RedisConnection conn, SubscriberProbe probe) {
    conn.handler(r -> dispatch(r, gen, single, probe));
    conn.endHandler(v -> replaceSubscriber(gen, single, Reason.CLOSED, "connection lost"));
    conn.exceptionHandler(e -> log.warn("Redis subscriber error: {}", e.getMessage()));
    List<Future<Response>> subs = new ArrayList<>();
    // a name makes the subscriber findable in CLIENT LIST (operations, tests)
    subs.add(conn.send(Request.cmd(Command.CLIENT).arg("SETNAME").arg(subscriberName())));
    for (String ch : channels.names()) {
      subs.add(conn.send(Request.cmd(subscribe).arg(ch)));
    }
    for (String p : patterns.names()) {
      subs.add(conn.send(Request.cmd(Command.PSUBSCRIBE).arg(p)));
    }
    return Future.all(subs).map(conn);
  }

  /**
   * Drops the subscriber connection of generation {@code gen} (if it is still the current one) and
   * subscribes everything again on a new one, with backoff.
   */
  private void replaceSubscriber(long gen, Redis client, Reason reason, String why) {
    synchronized (this) {
      if (gen != generation) {
        return;
      }
      subscriber = null;
      generation++;
      subscriberLost = true;
    }
    client.close();
    if (!closed) {
      losses.lost(reason);
      log.warn("Redis subscriber {}; reconnecting", why);
      lossListeners.fire();
      scheduleResubscribe(1);
    }
  }

  /** The Redis client name of this bus's subscriber connection. */
  public String subscriberName() {
    return "umbra-sub-" + prefix.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  private void scheduleResubscribe(int attempt) {
    long delay = Math.min(MAX_BACKOFF_MS, 100L << Math.min(attempt, 6));
    vertx.setTimer(
        delay,
        t -> {
          if (closed || (channels.isEmpty() && patterns.isEmpty())) {
            subscriberLost = false; // nothing to resubscribe
            return;
          }
          subscriberConnection()
              .onSuccess(c -> log.info("Redis subscriber reconnected"))
              .onFailure(
                  e -> {
                    synchronized (this) {
                      subscriber = null;
                    }
                    losses.reconnectFailed();
                    scheduleResubscribe(attempt + 1);
                  });
        });
  }

  /** Pushes only: another type here is a reply whose promise a push took (SubscriberProbe). */
  private void dispatch(Response r, long gen, Redis client, SubscriberProbe probe) {
    if (r == null || gen != generation) {
      return;
    }
    probe.heard();
    if ((r.type() != ResponseType.PUSH && r.type() != ResponseType.MULTI) || r.size() < 2) {
      return;
    }
    String kind = r.get(0).toString();
    if ("ssubscribe".equals(kind)) {
      probe.echoed(r.get(1).toString());
      return;
    }
    if (r.size() < 3) {
      return;
    }
    if ("message".equals(kind) || "smessage".equals(kind)) {
      deliver(channels.listeners(r.get(1).toString()), r.get(1).toString(), r.get(2).toBuffer());
    } else if ("pmessage".equals(kind) && r.size() >= 4) {
      deliver(patterns.listeners(r.get(1).toString()), r.get(2).toString(), r.get(3).toBuffer());
    } else if ("sunsubscribe".equals(kind)
        && !ownUnsubscribes.answered(gen, r.get(1).toString())
        && !channels.listeners(r.get(1).toString()).isEmpty()) {
      // not a reply to ours (OwnUnsubscribes): the Cluster moved a listened channel's slot (a
      // failover, resharding) and its old owner dropped it; a new connection finds the new owner
      replaceSubscriber(
          gen, client, Reason.SLOT_MOVED, "lost a subscription its shard gave up (slot moved)");
    }
  }

  private void deliver(List<Listener> listeners, String rawChannel, Buffer body) {
    String channel =
        rawChannel.startsWith(prefix) ? rawChannel.substring(prefix.length()) : rawChannel;
    boolean shared = listeners.size() > 1;
    for (Listener l : listeners) {
      // each listener gets its own copy only when there are several (they may run on other threads)
      BusMessage m = new BusMessage(channel, shared ? body.copy() : body);
      if (Vertx.currentContext() == l.context) {
        // the subscriber connection runs on the listener's own event loop: no hop
        try {
          l.handler.handle(m);
        } catch (RuntimeException e) {
          log.warn("bus handler for {} failed: {}", channel, e.toString());
        }
      } else {
        l.context.runOnContext(v -> l.handler.handle(m));
      }
    }
  }

  @Override
  public Future<String> append(String stream, Buffer body, long maxLength) {
    return appendAll(stream, List.of(body), maxLength).map(List::getFirst);
  }

  @Override
  public Future<List<String>> appendAll(String stream, List<Buffer> bodies, long maxLength) {
    return streams.appendAll(stream, bodies, maxLength);
  }

  @Override
  public Future<List<StreamEntry>> range(String stream, String afterId, int count) {
    return streams.range(stream, afterId, count);
  }

  @Override
  public Future<Void> ensureGroup(String stream, String group) {
    return streams.ensureGroup(stream, group);
  }

  @Override
  public Future<List<StreamEntry>> readGroup(
      String stream, String group, String consumer, int count, Duration block) {
    return streams.readGroup(stream, group, consumer, count, block);
  }

  @Override
  public Future<Long> ack(String stream, String group, List<String> ids) {
    return streams.ack(stream, group, ids);
  }

  @Override
  public Future<List<StreamEntry>> claimPending(
      String stream, String group, String consumer, Duration minIdle, int count) {
    return streams.claimPending(stream, group, consumer, minIdle, count);
  }

  @Override
  public Future<Void> putExpiring(String key, String value, Duration ttl) {
    return keys.putExpiring(key, value, ttl);
  }

  @Override
  public Future<String> get(String key) {
    return keys.get(key);
  }

  @Override
  public Future<Boolean> deleteIfHolds(String key, String value) {
    return keys.deleteIfHolds(key, value);
  }

  /**
   * One node: PING. A Cluster: {@code CLUSTER INFO} on every master of the slot map, each of which
   * must answer and say {@code cluster_state:ok}; so while a dead master's slots wait for its
   * replica's promotion (or a slot has no master at all) the bus reports itself down.
   */
  @Override
  public Future<Void> ping() {
    if (subscriberLost && !(channels.isEmpty() && patterns.isEmpty())) {
      return Future.failedFuture(
          new BusException("Redis subscriber connection lost; resubscribing"));
    }
    if (!sharded) {
      return send(Request.cmd(Command.PING)).mapEmpty();
    }
    if (closed) {
      return Future.failedFuture(new BusException("Redis bus is closed"));
    }
    return bounded(RedisTopology.clusterHealth(client), Duration.ZERO);
  }

  @Override
  public Future<Void> close() {
    Future<RedisConnection> sub;
    synchronized (this) {
      closed = true;
      sub = subscriber;
      subscriber = null;
    }
    publisher.close();
    channels.clear();
    patterns.clear();
    Promise<Void> done = Promise.promise();
    // bounded: closing a subscriber connection that ends twice once never completed (stop hung)
    Future<Void> closeSub =
        sub != null && sub.succeeded()
            ? sub.result()
                .close()
                .timeout(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .recover(e -> Future.succeededFuture())
            : Future.succeededFuture();
    closeSub.onComplete(
        x -> {
          client.close();
          done.complete();
        });
    return done.future();
  }

  @Override
  public String kind() {
    return "redis";
  }
}
