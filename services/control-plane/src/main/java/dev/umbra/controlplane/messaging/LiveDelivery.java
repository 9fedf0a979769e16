package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.Subscription;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
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
 * recipient acknowledges it.
 */
public final class LiveDelivery {
  private static final Logger log = LoggerFactory.getLogger(LiveDelivery.class);

  /** Close code of a socket whose session or principal was revoked. */
  public static final short CLOSE_REVOKED = 4403;

  /** Close code of a socket whose session token expired ({@link SocketExpiry}). */
  public static final short CLOSE_EXPIRED = SocketExpiry.CLOSE_EXPIRED;

  /** Close code of a socket that sent a frame the protocol does not have. */
  public static final short CLOSE_MALFORMED = 1008;

  static final int MAX_ACK_IDS = 200;

  /**
   * Close code (1013, "try again later") of a socket that may have missed a copy: its push read
   * failed, or this instance's bus subscriptions were interrupted (notices published meanwhile are
   * lost). The client fetches what is pending at once and reconnects (docs/messaging.md).
   */
  public static final short CLOSE_TRY_AGAIN = 1013;

  /** Why a socket was closed with {@link #CLOSE_TRY_AGAIN}: the close frame's reason. */
  public enum TryAgain {
    /** Reading the notified copies from PostgreSQL failed. */
    PUSH_FAILED("push_failed"),
    /** The instance's bus subscriptions were lost (Redis restarting, a partition). */
    BUS_INTERRUPTED("bus_interrupted");

    public final String reason;

    TryAgain(String reason) {
      this.reason = reason;
    }
  }

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
  private final io.micrometer.core.instrument.Counter pushReads;

  private final Map<TryAgain, io.micrometer.core.instrument.Counter> tryAgain =
      new java.util.EnumMap<>(TryAgain.class);
  private final Map<UUID, Set<Socket>> sockets = new ConcurrentHashMap<>();
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

  /** Most copies in one {@code messages} frame. */
  static final int MAX_FRAME_MESSAGES = 100;

  /**
   * A {@code messages} frame takes copies while their ciphertexts' base64 plus {@value
   * #FRAME_OVERHEAD_CHARS} each stay within this (a lone copy, up to ~88,000 characters, always
   * goes): frames stay under the 256 KiB clients accept.
   */
  static final int MAX_FRAME_CHARS = 160 * 1024;

  /** A copy's JSON beside its ciphertext (ids, seq, kind, time), counted generously. */
  static final int FRAME_OVERHEAD_CHARS = 400;

  /**
   * Most bytes a socket may have waiting to be written to its client (pushes, pongs, acks): a
   * client that does not read is closed with {@link #CLOSE_NOT_READING} instead of making the
   * instance hold what it sends, or what it asks for, in memory without bound. Its copies stay
   * stored; it fetches them after reconnecting.
   */
  static final int MAX_QUEUED_BYTES = 4 * 1024 * 1024;

  /** Close code of a socket whose client let {@link #MAX_QUEUED_BYTES} pile up unread. */
  public static final short CLOSE_NOT_READING = 1008;

  /**
   * Most live sockets of one party on an instance: each may hold {@link #MAX_QUEUED_BYTES}, so
   * without a bound one member or agent opening sockets (200 an address, from many addresses)
   * multiplied it; one more is closed with {@link #CLOSE_TOO_MANY} ({@code too many sockets}).
   */
  static final int MAX_SOCKETS_PER_PARTY = 16;

  /** Close code of a socket beyond {@link #MAX_SOCKETS_PER_PARTY}. */
  public static final short CLOSE_TOO_MANY = 1008;

  /** Close code of a socket that sent nothing (not even a ping) for the idle limit. */
  public static final short CLOSE_IDLE = 1001;

  private final java.time.Duration idle;

  /** A live socket, who holds it, and when it last sent a frame ({@link System#nanoTime}). */
  record Socket(
      ServerWebSocket ws,
      Party party,
      SessionClaims claims,
      boolean batched,
      java.util.concurrent.atomic.AtomicLong lastFrameNanos) {}

  LiveDelivery(
      Bus bus,
      Database db,
      MessageStore store,
      AuditEmitter audit,
      java.time.Duration idle,
      NoticeOutbox outbox,
      Notices notices,
      StageTimers stages,
      SocketExpiry expiry,
      io.micrometer.core.instrument.MeterRegistry registry) {
    this.bus = bus;
    this.db = db;
    this.store = store;
    this.audit = audit;
    this.idle = idle;
    this.outbox = outbox;
    this.notices = notices;
    this.stages = stages;
    this.expiry = expiry;
    this.pushReads =
        io.micrometer.core.instrument.Counter.builder(
                dev.umbra.kit.metrics.Metrics.name("control-plane", "message_push_reads"))
            .register(registry);
    for (TryAgain t : TryAgain.values()) {
      tryAgain.put(
          t,
          io.micrometer.core.instrument.Counter.builder(
                  dev.umbra.kit.metrics.Metrics.name("control-plane", "message_sockets_retried"))
              .tag("reason", t.reason)
              .register(registry));
    }
    // every subscription of this instance was on the lost connection: every socket may miss one
    bus.onSubscriptionsLost(
        v -> sockets.values().forEach(set -> tryAgain(set, TryAgain.BUS_INTERRUPTED)));
  }

  /**
   * Closes {@code set}'s sockets with {@link #CLOSE_TRY_AGAIN}: they may have missed a copy, and
   * their clients fetch it now and reconnect.
   */
  private void tryAgain(Set<Socket> set, TryAgain why) {
    for (Socket s : List.copyOf(set)) {
      if (!s.ws().isClosed()) {
        tryAgain.get(why).increment();
        s.ws().close(CLOSE_TRY_AGAIN, why.reason);
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
    for (Set<Socket> set : sockets.values()) {
      for (Socket s : List.copyOf(set)) {
        if (expiry.due(s.claims().expiresAt())) {
          expiry.close(s.ws());
        } else if (now - s.lastFrameNanos().get() > idle.toNanos()) {
          s.ws().close(CLOSE_IDLE, "idle");
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
        notices.encode(workspace, recipient, messageId, copy),
        () -> stages.since(StageTimers.Stage.PUBLISHED, storedNanos));
  }

  /**
   * Takes an upgraded socket: subscribes for its party, then says {@code ready}. {@code batched}:
   * the client asked for {@code messages} frames.
   */
  void attach(ServerWebSocket ws, Party party, SessionClaims claims, boolean batched) {
    Socket s =
        new Socket(
            ws,
            party,
            claims,
            batched,
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime()));
    Set<Socket> set = sockets.computeIfAbsent(party.id(), k -> ConcurrentHashMap.newKeySet());
    if (set.size() >= MAX_SOCKETS_PER_PARTY) {
      ws.close(CLOSE_TOO_MANY, "too many sockets");
      return;
    }
    ws.setWriteQueueMaxSize(MAX_QUEUED_BYTES);
    set.add(s);
    ws.closeHandler(v -> detach(s));
    expiry.arm(ws, claims.expiresAt());
    ws.textMessageHandler(text -> onFrame(s, text));
    ws.binaryMessageHandler(b -> ws.close(CLOSE_MALFORMED, "text frames only"));
    subscriptions
        .computeIfAbsent(
            party.id(),
            id ->
                bus.subscribe(
                    BusNames.messageRecipient(party.workspaceId(), id),
                    m -> onNotice(party.workspaceId(), id, m)))
        .onSuccess(sub -> send(s, new JsonObject().put("type", "ready")))
        .onFailure(
            e -> {
              // a later socket of this recipient subscribes again
              subscriptions.remove(party.id());
              ws.close((short) 1011, "bus unavailable");
            });
  }

  private void detach(Socket s) {
    expiry.disarm(s.ws());
    UUID id = s.party().id();
    Set<Socket> set = sockets.get(id);
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

  /** A notice on the channel of {@code ws}/{@code recipient}: verified, then queued for push. */
  private void onNotice(UUID ws, UUID recipient, BusMessage m) {
    long at = System.nanoTime();
    Notices.Opened o = notices.open(ws, recipient, m.body());
    if (o.notice() == null) {
      log.debug("message notice refused: {}", o.refusal().tag);
      return;
    }
    Set<Socket> here = sockets.get(recipient);
    if (here == null || here.isEmpty()) {
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
    private final Set<Socket> here;
    private final java.util.ArrayDeque<Arrived> queued = new java.util.ArrayDeque<>();
    private boolean reading;

    Pushes(UUID ws, UUID recipient, Set<Socket> here) {
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
   * frames of up to {@value #MAX_FRAME_MESSAGES} copies and about {@value #MAX_FRAME_CHARS}
   * characters. Every copy is audited as delivered, one event per copy and socket. {@code arrived}:
   * when each copy's notice came off the bus (its frame's write is timed from then).
   */
  private void push(
      Set<Socket> here, UUID ws, List<MessageStore.Stored> copies, List<Long> arrived) {
    if (copies.isEmpty()) {
      return;
    }
    List<JsonObject> json = new ArrayList<>(copies.size());
    copies.forEach(c -> json.add(c.toJson()));
    for (Socket s : List.copyOf(here)) {
      if (!s.party().workspaceId().equals(ws)) {
        continue;
      }
      if (s.batched()) {
        int from = 0;
        for (JsonObject frame : batches(json)) {
          int to = from + frame.getJsonArray("messages").size();
          timed(send(s, frame), arrived.subList(from, to));
          from = to;
        }
      } else {
        for (int i = 0; i < json.size(); i++) {
          JsonObject frame = new JsonObject().put("type", "message").put("message", json.get(i));
          timed(send(s, frame), arrived.subList(i, i + 1));
        }
      }
      copies.forEach(c -> delivered(s.party(), c.id(), c.ciphertext().length));
    }
  }

  /** Times {@link StageTimers.Stage#PUSHED} of each copy of a frame once it was written. */
  private void timed(Future<Void> written, List<Long> arrived) {
    written.onSuccess(v -> arrived.forEach(at -> stages.since(StageTimers.Stage.PUSHED, at)));
  }

  /** {@code messages} frames of {@code json} in order, each within the frame limits. */
  static List<JsonObject> batches(List<JsonObject> json) {
    List<JsonObject> frames = new ArrayList<>();
    JsonArray current = new JsonArray();
    int chars = 0;
    for (JsonObject m : json) {
      int size = m.getString("ciphertext", "").length() + FRAME_OVERHEAD_CHARS;
      if (!current.isEmpty()
          && (current.size() == MAX_FRAME_MESSAGES || chars + size > MAX_FRAME_CHARS)) {
        frames.add(new JsonObject().put("type", "messages").put("messages", current));
        current = new JsonArray();
        chars = 0;
      }
      current.add(m);
      chars += size;
    }
    frames.add(new JsonObject().put("type", "messages").put("messages", current));
    return frames;
  }

  private void delivered(Party p, UUID messageId, int bytes) {
    audit
        .event(AuditAction.AGENT_MESSAGE_DELIVERED)
        .workspace(p.workspaceId())
        .actor(actor(p))
        .target("message", messageId)
        .meta("recipient", p.id().toString())
        .meta("bytes", Integer.toString(bytes))
        .success()
        .emit();
  }

  static AuditActor actor(Party p) {
    return p.kind() == Party.Kind.AGENT
        ? AuditActor.machine(p.machineId().toString())
        : AuditActor.device(p.id().toString());
  }

  private void onFrame(Socket s, String text) {
    s.lastFrameNanos().set(System.nanoTime());
    LiveFrames.Frame f = LiveFrames.parse(text);
    if (f.refusal() != null) {
      s.ws().close(CLOSE_MALFORMED, f.refusal().reason);
      return;
    }
    switch (f.kind()) {
      case PING -> send(s, new JsonObject().put("type", "pong"));
      case ACK -> ack(s, f.ids());
    }
  }

  private void ack(Socket s, List<UUID> ids) {
    // one ack in flight per socket: the next frame is read once this one is answered (else one
    // client sending acks faster than they end held every connection of the instance's pool)
    s.ws().pause();
    MessageStore.ack(db, s.party().workspaceId(), s.claims(), ids)
        .onSuccess(
            a -> {
              MessageRoutes.readAudit(audit, s.party(), ids.size(), a.deleted());
              send(s, new JsonObject().put("type", "acked").put("deleted", a.deleted()));
            })
        .onFailure(
            e -> {
              // a refusal ends the socket for good; a database that failed only this once does not
              if (e instanceof Refusal) {
                s.ws().close(CLOSE_REVOKED, "not allowed");
              } else {
                s.ws().close(CLOSE_TRY_AGAIN, "acknowledgement failed, try again");
              }
            })
        .onComplete(ar -> s.ws().resume());
  }

  /** Writes {@code frame}; the future fails if it was not (a closed or unread socket). */
  private static Future<Void> send(Socket s, JsonObject frame) {
    if (s.ws().isClosed()) {
      return Future.failedFuture("closed");
    }
    if (s.ws().writeQueueFull()) {
      s.ws().close(CLOSE_NOT_READING, "not reading");
      return Future.failedFuture("not reading");
    }
    return s.ws().writeTextMessage(frame.encode());
  }

  /**
   * Closes the sockets a revocation ends: what it voids of their session tokens, and an agent's
   * sockets when its machine is revoked.
   */
  public void onRevoked(Revoked r) {
    for (Set<Socket> set : sockets.values()) {
      for (Socket s : List.copyOf(set)) {
        boolean machine =
            r.kind() == RevokedKind.REVOKED_KIND_MACHINE
                && r.workspaceId().equals(s.party().workspaceId())
                && s.party().machineId() != null
                && r.subject().equals(s.party().machineId().toString());
        if (machine || r.endsLive(s.claims())) {
          s.ws().close(CLOSE_REVOKED, "revoked");
        }
      }
    }
  }

  /** How many sockets this instance holds (tests, metrics). */
  public int sockets() {
    return sockets.values().stream().mapToInt(Set::size).sum();
  }

  /** Closes every socket (the service stops). */
  Future<Void> stop() {
    for (Set<Socket> set : sockets.values()) {
      set.forEach(s -> s.ws().close((short) 1001, "going away"));
    }
    List<Future<Void>> all = new ArrayList<>();
    subscriptions.values().forEach(f -> all.add(f.compose(Subscription::unsubscribe)));
    subscriptions.clear();
    return Future.join(all).mapEmpty();
  }
}
