package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.messaging.WebhookDeliveries.Claimed;
import dev.umbra.controlplane.messaging.WebhookDeliveries.Enqueued;
import dev.umbra.controlplane.notify.Sweeps;
import dev.umbra.crypto.secret.WebhookSignatures;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.sqlclient.SqlConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a member's notification webhook a delivery signal when an agent's message is stored for
 * them (docs/messaging.md, "Notifications"): body {@code {"conversation_id","message_id","sender"}}
 * only — never content nor ciphertext — signed in {@code X-Umbra-Signature} (HMAC-SHA256 with the
 * member's secret); only to hosts {@link WebhookDestinations} admits, connecting to the address it
 * checked. Durable: the signal is queued in {@link WebhookDeliveries} in the message's own
 * transaction, and every instance sweeps due rows (claimed with {@code FOR UPDATE SKIP LOCKED}), so
 * a signal outlives the instance that queued it; {@link #ATTEMPTS} attempts, the first at once,
 * then after the first retry delay ×4 each time (times from the injected clock).
 */
final class Notifier {
  private static final Logger log = LoggerFactory.getLogger(Notifier.class);
  static final String SIGNATURE_HEADER = "X-Umbra-Signature";
  static final int ATTEMPTS = 4;
  private static final int TIMEOUT_MS = 5_000;

  /**
   * An attempt (lookup, connect, answer) not over by then is abandoned as failed; an answer's body
   * still arriving by then is cut off (its connection closed), whatever its status said.
   */
  static final Duration ATTEMPT_DEADLINE = Duration.ofSeconds(10);

  /** Bytes of an answer's body read (and discarded) at most; beyond, its connection is closed. */
  static final int MAX_ANSWER_BYTES = 64 * 1024;

  /**
   * A claimed delivery is hidden from every sweep this long; if its instance dies meanwhile,
   * another takes it over after it (the attempt counts). Well over {@link #ATTEMPT_DEADLINE}, so no
   * other instance starts while an attempt may still be sending (clocks within 20 s of each other).
   */
  static final Duration LEASE = Duration.ofSeconds(30);

  /** Attempts in flight per instance; a sweep claims no more than the room left. */
  static final int MAX_IN_FLIGHT = 64;

  private static final int WORKSPACES_PER_SWEEP = 100;

  private final Vertx vertx;
  private final Database db;
  private final WebhookDeliveries deliveries;
  private final WebhookDestinations destinations;
  private final HttpClient http;
  private final Duration firstRetry;
  private final Clock clock;
  private final MeterRegistry registry;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean sweeping = new AtomicBoolean();
  private final Promise<Void> drained = Promise.promise();
  private volatile boolean stopped;
  private long timer = -1;

  Notifier(
      Vertx vertx,
      Database db,
      WebhookDeliveries deliveries,
      WebhookDestinations destinations,
      Duration firstRetry,
      Clock clock,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.db = db;
    this.deliveries = deliveries;
    this.destinations = destinations;
    // connects to the address that was checked; SNI and the certificate check use the URL's host
    this.http = vertx.createHttpClient(new HttpClientOptions().setForceSni(true));
    this.firstRetry = firstRetry;
    this.clock = clock;
    this.registry = registry;
    for (String outcome : List.of("delivered", "failed", "refused", "dropped", "coalesced")) {
      counter(outcome); // every outcome shows from the start, at 0
    }
  }

  private Counter counter(String outcome) {
    return Counter.builder(Metrics.name("control-plane", "webhooks"))
        .tag("outcome", outcome)
        .register(registry);
  }

  /**
   * In the transaction storing {@code message}: queues the signal for {@code account} (if it set a
   * webhook) that {@code agent} sent it. Rolled back with the message, committed with it.
   */
  Future<Enqueued> enqueue(
      SqlConnection conn, UUID wid, UUID account, UUID agent, UUID conversation, UUID message) {
    return deliveries.enqueue(conn, wid, account, agent, conversation, message, now());
  }

  /** After the commit: counts a coalesced signal and makes the first attempt at once. */
  void queued(UUID wid, Enqueued e) {
    if (e == Enqueued.COALESCED) {
      counter("coalesced").increment();
    }
    if (e != Enqueued.NONE) {
      sweepWorkspace(wid)
          .onFailure(x -> log.warn("webhook delivery sweep failed: {}", x.toString()));
    }
  }

  /** The periodic sweep: often enough for the first retry delay, at most every second. */
  void start() {
    long every = Math.max(50, Math.min(1_000, firstRetry.toMillis()));
    timer =
        vertx.setPeriodic(
            every, t -> sweep().onFailure(e -> log.warn("webhook sweep failed: {}", e.toString())));
  }

  /**
   * Claims and starts the due deliveries of every workspace that has some (one sweep at a time per
   * instance); returns how many were started.
   */
  Future<Integer> sweep() {
    if (stopped || !sweeping.compareAndSet(false, true)) {
      return Future.succeededFuture(0);
    }
    OffsetDateTime now = now();
    return db.withTransaction(conn -> deliveries.dueWorkspaces(conn, now, WORKSPACES_PER_SWEEP))
        .compose(
            wss ->
                Sweeps.inTurn(
                    wss,
                    ws ->
                        sweepWorkspace(ws)
                            .recover(
                                e -> {
                                  log.warn("webhook sweep of a workspace failed: {}", e.toString());
                                  return Future.succeededFuture(0);
                                })))
        .onComplete(x -> sweeping.set(false));
  }

  /** Claims the workspace's due deliveries (as many as there is room in flight) and sends them. */
  private Future<Integer> sweepWorkspace(UUID wid) {
    int room = reserve();
    if (room == 0) {
      return Future.succeededFuture(0);
    }
    OffsetDateTime now = now();
    return db.inWorkspace(
            wid,
            conn ->
                deliveries
                    .expire(conn, now)
                    .compose(
                        gone -> {
                          counter("failed").increment(gone);
                          return deliveries.claim(conn, now, now.plus(LEASE), room);
                        }))
        .onFailure(e -> release(room))
        .map(
            claimed -> {
              release(room - claimed.size());
              claimed.forEach(c -> attempt(wid, c));
              return claimed.size();
            });
  }

  private int reserve() {
    while (true) {
      int now = inFlight.get();
      int room = stopped ? 0 : Math.max(0, MAX_IN_FLIGHT - now);
      if (room == 0 || inFlight.compareAndSet(now, now + room)) {
        return room;
      }
    }
  }

  private void release(int n) {
    if (inFlight.addAndGet(-n) == 0 && stopped) {
      drained.tryComplete();
    }
  }

  private void attempt(UUID wid, Claimed c) {
    if (c.url() == null) {
      finish(wid, c, "dropped"); // no longer a member of the workspace
      return;
    }
    byte[] body =
        new JsonObject()
            .put("conversation_id", c.conversation().toString())
            .put("message_id", c.message().toString())
            .put("sender", c.sender())
            .encode()
            .getBytes(StandardCharsets.UTF_8);
    post(c, body)
        .onSuccess(v -> finish(wid, c, "delivered"))
        .onFailure(
            e -> {
              if (e instanceof WebhookDestinations.Refused) {
                log.info("webhook not delivered: its host is an internal address");
                finish(wid, c, "refused"); // not retried: the address will not become acceptable
              } else if (c.attempt() >= ATTEMPTS) {
                log.info("webhook not delivered after {} attempts", c.attempt());
                finish(wid, c, "failed");
              } else {
                finish(wid, c, null);
              }
            });
  }

  /**
   * Records an attempt's end: the row deleted with {@code outcome}, or retried when null. Only the
   * attempt that still holds the claim records a failure (an attempt that outlived its lease was
   * taken over, and the newer attempt decides); a delivered signal deletes the row in any case.
   * Counted when recorded, so a delivery's end is counted once.
   */
  private void finish(UUID wid, Claimed c, String outcome) {
    boolean delivered = "delivered".equals(outcome);
    if (delivered) {
      counter(outcome).increment();
    }
    OffsetDateTime next = now().plus(firstRetry.multipliedBy(1L << (2 * (c.attempt() - 1))));
    db.inWorkspace(
            wid,
            conn ->
                outcome == null
                    ? deliveries.retryAt(conn, c.id(), c.attempt(), next)
                    : delivered
                        ? deliveries.delete(conn, c.id()).map(true)
                        : deliveries.delete(conn, c.id(), c.attempt()))
        .onSuccess(
            recorded -> {
              if (!delivered && outcome != null && recorded) {
                counter(outcome).increment();
              }
            })
        .onFailure(e -> log.warn("webhook delivery not recorded: {}", e.toString()))
        .onComplete(x -> release(1));
  }

  private Future<Void> post(Claimed c, byte[] body) {
    Promise<Void> done = Promise.promise();
    AtomicBoolean late = new AtomicBoolean();
    AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
    // the exchange is over (the answer's body read, or failed): only then does the deadline stop
    Promise<Void> over = Promise.promise();
    long deadline =
        vertx.setTimer(
            ATTEMPT_DEADLINE.toMillis(),
            t -> {
              late.set(true);
              HttpClientRequest r = sent.get();
              if (r != null) {
                r.reset();
              }
              done.tryFail(new TimeoutException("webhook attempt deadline"));
            });
    Future<Void> f;
    try {
      URI u = URI.create(c.url());
      boolean https = "https".equals(u.getScheme().toLowerCase(Locale.ROOT));
      int port = u.getPort() != -1 ? u.getPort() : https ? 443 : 80;
      f =
          destinations
              .resolve(u.getHost())
              .compose(
                  address ->
                      late.get()
                          ? Future.failedFuture(new TimeoutException("webhook attempt deadline"))
                          : post(c, body, new InetSocketAddress(address, port), sent, over));
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(
        ar -> {
          if (ar.succeeded()) {
            done.tryComplete();
          } else {
            over.tryComplete();
            done.tryFail(ar.cause());
          }
        });
    over.future().onComplete(x -> vertx.cancelTimer(deadline));
    return done.future();
  }

  private Future<Void> post(
      Claimed c,
      byte[] body,
      InetSocketAddress checked,
      AtomicReference<HttpClientRequest> sent,
      Promise<Void> over) {
    RequestOptions o =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(c.url())
            .setServer(SocketAddress.inetSocketAddress(checked))
            .setTimeout(TIMEOUT_MS)
            .setFollowRedirects(false)
            .putHeader("content-type", "application/json")
            .putHeader(SIGNATURE_HEADER, WebhookSignatures.sign(c.secret(), body));
    return http.request(o)
        .compose(
            req -> {
              sent.set(req);
              return req.send(Buffer.buffer(body));
            })
        .compose(
            resp -> {
              discardBody(resp, over);
              return resp.statusCode() / 100 == 2
                  ? Future.<Void>succeededFuture()
                  : Future.<Void>failedFuture(
                      new IllegalStateException("HTTP " + resp.statusCode()));
            });
  }

  /**
   * The status decides the outcome; the body is read and dropped, at most {@link #MAX_ANSWER_BYTES}
   * (beyond, the request is reset, which closes its connection) and only until the attempt's
   * deadline (which resets it too): a receiver's endless or huge body must not hold the connection,
   * nor a socket per host name it can make the control plane call.
   */
  private static void discardBody(HttpClientResponse resp, Promise<Void> over) {
    AtomicLong read = new AtomicLong();
    resp.handler(
        chunk -> {
          if (read.addAndGet(chunk.length()) > MAX_ANSWER_BYTES) {
            resp.request().reset();
            over.tryComplete();
          }
        });
    resp.exceptionHandler(e -> over.tryComplete());
    resp.endHandler(v -> over.tryComplete());
  }

  /**
   * Stops sweeping and waits for the attempts in flight to end and be recorded (each ends by its
   * deadline); a delivery claimed here and not recorded is taken over after {@link #LEASE}.
   */
  Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (inFlight.get() == 0) {
      drained.tryComplete();
    }
    Promise<Void> bounded = Promise.promise();
    long t = vertx.setTimer(ATTEMPT_DEADLINE.toMillis() + 5_000, x -> bounded.tryComplete());
    drained.future().onComplete(x -> bounded.tryComplete());
    return bounded
        .future()
        .compose(
            v -> {
              vertx.cancelTimer(t);
              return http.close();
            });
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
