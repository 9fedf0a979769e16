package dev.umbra.kit.revocation;

import dev.umbra.kit.auth.RevocationCheck;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.kit.bus.Subscription;
import dev.umbra.kit.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one subscriber of revocations in a service (docs/security.md, "Revocation"): it reads the
 * durable log when it starts (so an instance started after a revocation still refuses the tokens it
 * voids), follows the pub/sub channel for the instant fan-out, and polls the log every {@link
 * #POLL} for what pub/sub lost while the bus connection was down. Each revocation is kept until
 * every session token minted before it has expired ({@link #KEEP}).
 *
 * <p>{@link #isRevoked} answers synchronously from memory and <b>fails closed</b>: before the log
 * was first read, or when it could not be read for longer than {@link #STALE_AFTER}, every token
 * counts as revoked. Listeners are told of each new revocation on the context that called {@link
 * #start}, so a service closes what it holds on its own event loop.
 */
public final class RevocationList implements RevocationCheck {
  private static final Logger log = LoggerFactory.getLogger(RevocationList.class);

  /**
   * How long a revocation is kept: a token's life plus the clock skew of signer and verifier on
   * both ends.
   */
  public static final Duration KEEP =
      SessionTokens.MAX_TTL.plusSeconds(2 * SessionTokens.CLOCK_SKEW_SECONDS);

  public static final Duration POLL = Duration.ofSeconds(1);
  public static final Duration STALE_AFTER = Duration.ofSeconds(15);
  private static final int PAGE = 1000;

  private final Vertx vertx;
  private final Bus bus;
  private final Clock clock;
  private final String service;
  private final Map<String, Revoked> revoked = new ConcurrentHashMap<>();
  private final List<Consumer<Revoked>> listeners = new CopyOnWriteArrayList<>();
  private final Counter applied;
  private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
  private final LongSupplier nanos;
  private volatile long syncedAtNanos;
  private volatile boolean synced;
  private volatile String lastId;
  private volatile boolean polling;
  private Context context;
  private volatile Subscription subscription;
  private volatile boolean subscribing;
  private volatile boolean stopped;
  private long timer = -1;

  public RevocationList(Vertx vertx, Bus bus, Clock clock, MeterRegistry registry, String service) {
    this(vertx, bus, clock, System::nanoTime, registry, service);
  }

  /**
   * With the monotonic ticker that measures how long ago the log was read ({@code clock} gives
   * revocation and token times; a jump of the wall clock must not make the list stale).
   */
  RevocationList(
      Vertx vertx,
      Bus bus,
      Clock clock,
      LongSupplier nanos,
      MeterRegistry registry,
      String service) {
    this.nanos = nanos;
    this.vertx = vertx;
    this.bus = bus;
    this.clock = clock;
    this.service = service;
    this.applied = Counter.builder(Metrics.name(service, "revocations_applied")).register(registry);
    for (DropReason r : DropReason.values()) {
      dropped.put(
          r,
          Counter.builder(Metrics.name(service, "revocations_dropped"))
              .tag("reason", r.wire())
              .register(registry));
    }
  }

  /** Tells {@code listener} of every revocation applied from now on (on the starting context). */
  public void onRevoked(Consumer<Revoked> listener) {
    listeners.add(listener);
  }

  /**
   * Subscribes, reads the log, then polls it every {@link #POLL}. Completes once the log was read,
   * or, when the bus is unreachable, at once without it: the service still starts (its {@code
   * /healthz} reports the bus down) but refuses every session token until the log is read.
   */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    long since = clock.millis() - KEEP.toMillis() - Duration.ofMinutes(1).toMillis();
    lastId = Math.max(0, since) + "-0";
    timer = vertx.setPeriodic(POLL.toMillis(), t -> poll());
    return subscribe().compose(v -> readLog()).recover(e -> Future.succeededFuture());
  }

  private Future<Void> subscribe() {
    if (subscribing) {
      return Future.failedFuture("subscribing");
    }
    subscribing = true;
    return bus.subscribe(RevocationChannel.CHANNEL, this::onMessage)
        .onComplete(
            ar -> {
              subscribing = false;
              if (ar.succeeded()) {
                if (stopped) {
                  ar.result().unsubscribe();
                } else {
                  subscription = ar.result();
                }
              }
            })
        .mapEmpty();
  }

  public Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return subscription == null
        ? Future.succeededFuture()
        : subscription.unsubscribe().recover(e -> Future.succeededFuture());
  }

  @Override
  public boolean isRevoked(SessionClaims c) {
    return find(c) != null || !current();
  }

  /**
   * The revocation voiding {@code c}, or null (also null when the list is stale: see {@link
   * #isRevoked}).
   */
  public Revoked find(SessionClaims c) {
    Instant now = clock.instant();
    for (Revoked r : revoked.values()) {
      if (r.voids(c) && r.time().plus(KEEP).isAfter(now)) {
        return r;
      }
    }
    return null;
  }

  /** True when the log was read within {@link #STALE_AFTER}. */
  public boolean current() {
    return synced && nanos.getAsLong() - syncedAtNanos < STALE_AFTER.toNanos();
  }

  /** Revocations kept now (tests and metrics). */
  public int size() {
    return revoked.size();
  }

  /** The id of the last log entry read (tests). */
  String logPosition() {
    return lastId;
  }

  private void poll() {
    if (polling) {
      return;
    }
    polling = true;
    // until the channel is subscribed (the bus was down at start) the log alone keeps us current
    Future<Void> sub =
        subscription == null
            ? subscribe().recover(e -> Future.succeededFuture())
            : Future.succeededFuture();
    sub.compose(v -> readLog()).onComplete(ar -> polling = false);
  }

  private Future<Void> readLog() {
    return bus.range(RevocationChannel.LOG, lastId, PAGE)
        .compose(
            entries -> {
              for (StreamEntry e : entries) {
                lastId = e.id();
                apply(e.body().getBytes());
              }
              if (entries.size() == PAGE) {
                return readLog();
              }
              syncedAtNanos = nanos.getAsLong();
              synced = true;
              prune();
              return Future.<Void>succeededFuture();
            })
        .onFailure(
            e ->
                log.atWarn()
                    .addKeyValue("service", service)
                    .addKeyValue("error", e.getClass().getSimpleName())
                    .log("revocation log unreadable; tokens are refused once it stays so"));
  }

  private void onMessage(BusMessage m) {
    apply(m.body().getBytes());
  }

  private void apply(byte[] bytes) {
    Revoked.Parsed p = Revoked.parse(bytes);
    if (p.drop() != null) {
      dropped.get(p.drop()).increment();
      log.atWarn().addKeyValue("reason", p.drop().wire()).log("revocation dropped");
      return;
    }
    Revoked r = p.revoked();
    if (!r.time().plus(KEEP).isAfter(clock.instant())) {
      return; // every token it could void has expired
    }
    Revoked[] added = new Revoked[1];
    revoked.compute(
        r.key(),
        (k, old) -> {
          if (old != null && !newer(r, old)) {
            return old; // seen already (pub/sub and log both deliver it)
          }
          added[0] = r;
          return r;
        });
    if (added[0] == null) {
      return;
    }
    applied.increment();
    log.atInfo()
        .addKeyValue("workspace", r.workspaceId())
        .addKeyValue("kind", r.kind().name())
        .log("revocation applied");
    for (Consumer<Revoked> l : listeners) {
      if (Vertx.currentContext() == context) {
        notify(l, r);
      } else {
        context.runOnContext(v -> notify(l, r));
      }
    }
  }

  private static boolean newer(Revoked r, Revoked old) {
    return r.kind() == dev.umbra.proto.bus.RevokedKind.REVOKED_KIND_KEYSET_VERSION
        ? r.keysetVersion() > old.keysetVersion()
        : r.time().isAfter(old.time());
  }

  private void notify(Consumer<Revoked> l, Revoked r) {
    try {
      l.accept(r);
    } catch (RuntimeException e) {
      log.atWarn().addKeyValue("error", e.toString()).log("revocation listener failed");
    }
  }

  private void prune() {
    Instant now = clock.instant();
    revoked.values().removeIf(r -> !r.time().plus(KEEP).isAfter(now));
  }
}
