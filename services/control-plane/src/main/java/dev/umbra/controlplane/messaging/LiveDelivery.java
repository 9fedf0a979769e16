package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.messaging.LiveSocket.TryAgain;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.Subscription;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.revocation.Revoked;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live delivery of messages (docs/messaging.md, "Live delivery"): the sockets of this instance by
 * recipient, one bus subscription per recipient with a socket here, and the push of a stored copy
 * when its notice arrives: pushed from the notice itself when it carries the copy (a MAC'd notice,
 * {@link Notices}), else read from PostgreSQL. At least once: a copy stays stored until its
 * recipient acknowledges it. A socket's own state and writes are its {@link LiveSocket}'s, the
 * frames {@link LiveFrames}', and what its client sends is answered by {@link LiveAcks}.
 */
public final class LiveDelivery {
  private static final Logger log = LoggerFactory.getLogger(LiveDelivery.class);

  private final Bus bus;
  private final Database db;
  private final MessageStore store;
  private final AuditEmitter audit;
  private final NoticeOutbox outbox;
  private final Notices notices;
  private final StageTimers stages;
  private final SocketExpiry expiry;

  /**
   * Transactions that read notified copies from PostgreSQL ({@code message_push_reads}): only for
   * notices that did not carry their copy.
   */
  private final Counter pushReads;

  /**
   * Notices of a copy already pushed here lately ({@code message_notices_duplicate}): a retry,
   * sealed again, of a publish that had reached Redis after all ({@link RecentPushes}).
   */
  private final Counter duplicates;

  private final RecentPushes recent = new RecentPushes();

  private final Map<TryAgain, Counter> tryAgain = new EnumMap<>(TryAgain.class);
  private final Map<UUID, Set<LiveSocket>> sockets = new ConcurrentHashMap<>();
  private final Map<UUID, Future<Subscription>> subscriptions = new ConcurrentHashMap<>();

  /**
   * Per recipient, the notices not pushed yet. One read runs at a time per recipient and takes
   * every notice queued so far in one transaction (under load, one read for many notices instead of
   * one each); its copies go out in the order their notices arrived (the senders' order), so a
   * socket sees one sender's copies in the order they were stored.
   */
  private final Map<UUID, Pushes> pushes = new ConcurrentHashMap<>();

  /** Most notices read in one transaction. */
  static final int MAX_READ = 100;

  /**
   * Most live sockets of one party on an instance: each may hold {@link
   * LiveSocket#MAX_QUEUED_BYTES}, so without a bound one member or agent opening sockets (200 an
   * address, from many addresses) multiplied it; one more is closed with {@link
   * LiveSocket#CLOSE_TOO_MANY} ({@code too many sockets}).
   */
  static final int MAX_SOCKETS_PER_PARTY = 16;

  private final Duration idle;

  private final LiveAcks acks;

  LiveDelivery(
      Bus bus,
      Database db,
      MessageStore store,
      AuditEmitter audit,
      Duration idle,
      NoticeOutbox outbox,
      Notices notices,
      StageTimers stages,
      SocketExpiry expiry,
      MeterRegistry registry) {
    this.bus = bus;
    this.db = db;
    this.store = store;
    this.audit = audit;
    this.idle = idle;
    this.outbox = outbox;
    this.notices = notices;
    this.stages = stages;
    this.expiry = expiry;
    this.acks = new LiveAcks(db, audit);
    this.pushReads =
        Counter.builder(Metrics.name("control-plane", "message_push_reads")).register(registry);
    this.duplicates =
        Counter.builder(Metrics.name("control-plane", "message_notices_duplicate"))
            .register(registry);
    for (TryAgain t : TryAgain.values()) {
      tryAgain.put(
          t,
          Counter.builder(Metrics.name("control-plane", "message_sockets_retried"))
              .tag("reason", t.reason)
              .register(registry));
    }
    // every subscription of this instance was on the lost connection: every socket may miss one
    bus.onSubscriptionsLost(
        v -> sockets.values().forEach(set -> tryAgain(set, TryAgain.BUS_INTERRUPTED)));
  }

  /**
   * Closes {@code set}'s sockets with {@link LiveSocket#CLOSE_TRY_AGAIN}: they may have missed a
   * copy, and their clients fetch it now and reconnect.
   */
  private void tryAgain(Set<LiveSocket> set, TryAgain why) {
    for (LiveSocket s : List.copyOf(set)) {
      if (s.open()) {
        tryAgain.get(why).increment();
        s.close(LiveSocket.CLOSE_TRY_AGAIN, why.reason);
      }
    }
  }

  /**
   * Closes sockets that sent no frame for the idle limit (a dead peer's half-open connection): the
   * kit's connection guard leaves upgraded sockets to the service, and clients ping (docs); and
   * sockets whose session token expired by the clock (their timers close them at expiry too).
   */
  void sweepIdle() {
    long now = System.nanoTime();
    for (Set<LiveSocket> set : sockets.values()) {
      for (LiveSocket s : List.copyOf(set)) {
        if (expiry.due(s.claims().expiresAt())) {
          s.expired(expiry);
        } else if (s.idle(now, idle)) {
          s.close(LiveSocket.CLOSE_IDLE, "idle");
        }
      }
    }
  }

  /**
   * Tells the instances holding {@code recipient}'s sockets that a copy is stored; the notice
   * carries {@code copy} (the stored copy, or null) when it is small enough ({@link Notices}).
   * {@code storedNanos}: when the send's commit was answered ({@link System#nanoTime}).
   */
  void publish(
      UUID workspace, UUID recipient, UUID messageId, MessageStore.Stored copy, long storedNanos) {
    outbox.publish(
        BusNames.messageRecipient(workspace, recipient),
        Notices.notice(workspace, recipient, messageId, copy),
        () -> stages.since(StageTimers.Stage.PUBLISHED, storedNanos));
  }

  /**
   * Takes an upgraded socket: subscribes for its party, then says {@code ready}. {@code batched}:
   * the client asked for {@code messages} frames.
   */
  void attach(ServerWebSocket ws, Party party, SessionClaims claims, boolean batched) {
    LiveSocket s = new LiveSocket(ws, party, claims, batched);
    Set<LiveSocket> set = sockets.computeIfAbsent(party.id(), k -> ConcurrentHashMap.newKeySet());
    if (set.size() >= MAX_SOCKETS_PER_PARTY) {
      ws.close(LiveSocket.CLOSE_TOO_MANY, "too many sockets");
      return;
    }
    ws.setWriteQueueMaxSize(LiveSocket.MAX_QUEUED_BYTES);
    set.add(s);
    ws.closeHandler(v -> detach(s));
    // the server stops: closed now, not once its drain timed out (Vert.x then closes with 1000)
    ws.shutdownHandler(v -> s.close(LiveSocket.CLOSE_GOING_AWAY, "going away"));
    expiry.arm(ws, claims.expiresAt(), () -> s.expired(expiry));
    if (s.closing()) {
      return; // its token expired by the upgrade (within the verifiers' clock skew): closed 4401
    }
    ws.textMessageHandler(text -> acks.onFrame(s, text));
    ws.binaryMessageHandler(b -> s.close(LiveSocket.CLOSE_MALFORMED, "text frames only"));
    Future<Subscription> subscribed =
        subscriptions.computeIfAbsent(
            party.id(),
            id ->
                bus.subscribe(
                    BusNames.messageRecipient(party.workspaceId(), id),
                    m -> onNotice(party.workspaceId(), id, m)));
    subscribed
        .onSuccess(sub -> s.send(LiveFrames.ready()))
        .onFailure(
            e -> {
              // a later socket of this recipient subscribes again (this failed one only: a newer
              // subscription of the recipient stays)
              subscriptions.remove(party.id(), subscribed);
              s.close(LiveSocket.CLOSE_BUS_UNAVAILABLE, "bus unavailable");
            });
  }

  private void detach(LiveSocket s) {
    expiry.disarm(s.ws());
    UUID id = s.party().id();
    Set<LiveSocket> set = sockets.get(id);
    if (set == null) {
      return;
    }
    set.remove(s);
    if (set.isEmpty()) {
      sockets.remove(id, set);
      pushes.remove(id);
      Future<Subscription> sub = subscriptions.remove(id);
      if (sub != null) {
        sub.onSuccess(Subscription::unsubscribe);
      }
    }
  }

  /**
   * A notice on the channel of {@code ws}/{@code recipient}: verified, then queued for push unless
   * its copy was pushed here lately (a retry's second notice: dropped and counted).
   */
  private void onNotice(UUID ws, UUID recipient, BusMessage m) {
    long at = System.nanoTime();
    Notices.Opened o = notices.open(ws, recipient, m.body());
    if (o.notice() == null) {
      log.debug("message notice refused: {}", o.refusal().tag);
      return;
    }
    Set<LiveSocket> here = sockets.get(recipient);
    if (here == null || here.isEmpty()) {
      return;
    }
    if (!recent.first(recipient, o.notice().messageId())) {
      duplicates.increment();
      return;
    }
    pushes
        .computeIfAbsent(recipient, k -> new Pushes(ws, recipient, here))
        .add(new Arrived(o.notice(), at));
  }

  /** A notice and when it came off the bus ({@link System#nanoTime}). */
  private record Arrived(Notices.Notice notice, long atNanos) {}

  /** One recipient's queue of notices (see {@link #pushes}). */
  private final class Pushes {
    private final UUID ws;
    private final UUID recipient;
    private final Set<LiveSocket> here;
    private final java.util.ArrayDeque<Arrived> queued = new java.util.ArrayDeque<>();
    private boolean reading;

    Pushes(UUID ws, UUID recipient, Set<LiveSocket> here) {
      this.ws = ws;
      this.recipient = recipient;
      this.here = here;
    }

    synchronized void add(Arrived n) {
      queued.add(n);
      if (!reading) {
        reading = true;
        // after the notices that arrived with this one (one read from Redis): they share frames
        io.vertx.core.Context ctx = io.vertx.core.Vertx.currentContext();
        if (ctx == null) {
          next();
        } else {
          ctx.runOnContext(v -> next());
        }
      }
    }

    /**
     * Takes what is queued (up to {@value #MAX_READ}) and pushes it in order: the copies the
     * notices carried as they are, the others read in one transaction; then the next batch. A batch
     * of carried copies only is pushed without reading PostgreSQL.
     */
    private void next() {
      while (true) {
        List<Arrived> batch = new ArrayList<>();
        synchronized (this) {
          if (queued.isEmpty()) {
            reading = false;
            return;
          }
          while (!queued.isEmpty() && batch.size() < MAX_READ) {
            batch.add(queued.poll());
          }
        }
        List<UUID> ids = new ArrayList<>();
        batch.stream()
            .map(Arrived::notice)
            .filter(n -> n.copy() == null)
            .forEach(n -> ids.add(n.messageId()));
        if (ids.isEmpty()) {
          push(
              here,
              ws,
              batch.stream().map(a -> a.notice().copy()).toList(),
              batch.stream().map(Arrived::atNanos).toList());
          continue;
        }
        read(batch, ids);
        return;
      }
    }

    private void read(List<Arrived> batch, List<UUID> ids) {
      // one round trip: the read's COMMIT goes out behind it (Database.readInWorkspace)
      pushReads.increment();
      db.readInWorkspace(ws, conn -> store.some(conn, ids, recipient))
          .onSuccess(
              found -> {
                List<MessageStore.Stored> in = new ArrayList<>();
                List<Long> at = new ArrayList<>();
                for (Arrived a : batch) {
                  Notices.Notice n = a.notice();
                  MessageStore.Stored stored =
                      n.copy() != null ? n.copy() : found.get(n.messageId());
                  if (stored != null) {
                    in.add(stored);
                    at.add(a.atNanos());
                  }
                }
                push(here, ws, in, at);
              })
          .onFailure(
              e -> {
                // the copies stay stored: the clients fetch them now and reconnect
                log.warn("live push failed; its sockets are asked to reconnect: {}", e.toString());
                tryAgain(here, TryAgain.PUSH_FAILED);
              })
          .onComplete(ar -> next());
    }
  }

  /**
   * Pushes {@code copies} (in order) to each socket of the recipient here: one {@code message}
   * frame each, or on a socket that asked for batches ({@code ?frames=batch}) {@code messages}
   * frames of up to {@value LiveFrames#MAX_FRAME_MESSAGES} copies and about {@value
   * LiveFrames#MAX_BATCH_CHARS} characters. Every copy is audited as delivered, one event per copy
   * and socket. {@code arrived}: when each copy's notice came off the bus (its frame's write is
   * timed from then).
   */
  private void push(
      Set<LiveSocket> here, UUID ws, List<MessageStore.Stored> copies, List<Long> arrived) {
    if (copies.isEmpty()) {
      return;
    }
    List<JsonObject> json = new ArrayList<>(copies.size());
    copies.forEach(c -> json.add(c.toJson()));
    for (LiveSocket s : List.copyOf(here)) {
      if (!s.party().workspaceId().equals(ws)) {
        continue;
      }
      if (s.batched()) {
        int from = 0;
        for (JsonObject frame : LiveFrames.batches(json)) {
          int to = from + frame.getJsonArray("messages").size();
          timed(s.send(frame), arrived.subList(from, to));
          from = to;
        }
      } else {
        for (int i = 0; i < json.size(); i++) {
          timed(s.send(LiveFrames.message(json.get(i))), arrived.subList(i, i + 1));
        }
      }
      copies.forEach(c -> delivered(s.party(), c.id(), c.ciphertext().length));
    }
  }

  /** Times {@link StageTimers.Stage#PUSHED} of each copy of a frame once it was written. */
  private void timed(Future<Void> written, List<Long> arrived) {
    written.onSuccess(v -> arrived.forEach(at -> stages.since(StageTimers.Stage.PUSHED, at)));
  }

  private void delivered(Party p, UUID messageId, int bytes) {
    audit
        .event(AuditAction.AGENT_MESSAGE_DELIVERED)
        .workspace(p.workspaceId())
        .actor(p.auditActor())
        .target("message", messageId)
        .meta("recipient", p.id().toString())
        .meta("bytes", Integer.toString(bytes))
        .success()
        .emit();
  }

  /**
   * Closes the sockets a revocation ends: what it voids of their session tokens, and an agent's
   * sockets when its machine is revoked.
   */
  public void onRevoked(Revoked r) {
    for (Set<LiveSocket> set : sockets.values()) {
      for (LiveSocket s : List.copyOf(set)) {
        if (s.endedBy(r)) {
          s.close(LiveSocket.CLOSE_REVOKED, "revoked");
        }
      }
    }
  }

  /** How many sockets this instance holds (tests, metrics). */
  public int sockets() {
    return sockets.values().stream().mapToInt(Set::size).sum();
  }

  /**
   * Closes every socket still open and drops the subscriptions (the service stops; the server's
   * shutdown closed the sockets it held already, {@link #attach}).
   */
  Future<Void> stop() {
    for (Set<LiveSocket> set : sockets.values()) {
      set.forEach(s -> s.close(LiveSocket.CLOSE_GOING_AWAY, "going away"));
    }
    List<Future<Void>> all = new ArrayList<>();
    subscriptions.values().forEach(f -> all.add(f.compose(Subscription::unsubscribe)));
    subscriptions.clear();
    return Future.join(all).mapEmpty();
  }
}
