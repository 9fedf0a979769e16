package dev.umbra.client.messaging;

import dev.umbra.client.http.ClientTls;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Live delivery with its fallbacks (docs/messaging.md, "WebSocket protocol" and "Receiving"): the
 * socket {@code /messages/live} with the session token in the {@code Authorization} header; on
 * {@code ready} a full pending fetch; while the socket is not live (down, refused, or an upgrade
 * that hangs) a pending fetch every {@code pollEvery} (15 s) and reconnect attempts with a growing
 * pause ({@value #RECONNECT_MIN_MS} ms doubling to {@value #RECONNECT_MAX_MS} ms); a gap over
 * {@value #WAKE_GAP_MS} ms between two ticks of {@code clock} (the machine slept) drops the socket,
 * fetches and reconnects at once. Connecting never blocks the loop, so polling keeps its pace while
 * an attempt hangs. Everything the listener gets runs on the thread that called {@link #run}; a
 * listener that throws is reported as a status and the loop goes on.
 *
 * <p>Acknowledgements given to {@link #ack} are coalesced: the loop sends them as one {@code
 * {"type":"ack","ids":[...]}} frame (at most {@value #MAX_ACK_IDS} ids a frame) once the oldest has
 * waited {@value #ACK_LINGER_MS} ms or {@value #MAX_ACK_IDS} are waiting — off the delivery path,
 * without a request, a connection or a thread of their own; while the socket is not live they go to
 * the fallback ({@link #fallbackAcks}, an HTTP {@code POST /messages/acks}).
 */
public final class LiveReceiver {
  public static final long WAKE_GAP_MS = 120_000;
  static final long TICK_MS = 1_000;

  /** A {@code ping} this often keeps the socket under the server's idle limit (90 s default). */
  public static final long PING_MS = 30_000;

  /** An attempt that has not opened by then is abandoned (a proxy that swallows the upgrade). */
  static final long CONNECT_TIMEOUT_MS = 10_000;

  static final long RECONNECT_MIN_MS = 1_000;
  static final long RECONNECT_MAX_MS = 30_000;

  /**
   * The longest an acknowledgement waits for others to share its frame. An ack later by this much
   * costs nothing but a copy shown again after a reconnect in that moment (dropped by id); at 50
   * copies a second it makes one frame (one transaction on the server) of five acks.
   */
  public static final long ACK_LINGER_MS = 100;

  /** Most ids in one {@code ack} frame (the server's limit, docs/messaging.md). */
  public static final int MAX_ACK_IDS = 200;

  /** What the loop reports. */
  public interface Listener {
    /** Fetch everything pending (after ready, while polling, after a wake). */
    void fetch();

    /** One copy pushed by the socket. */
    void message(JsonObject message);

    /**
     * The copies of one {@code messages} frame, in order (docs/messaging.md, "Batches"); by default
     * each goes to {@link #message}. A listener that opens them together acknowledges them in one
     * request.
     */
    default void messages(List<JsonObject> messages) {
      messages.forEach(this::message);
    }

    /** A status line for people ("connected", "socket down: polling every 15 s", ...). */
    void status(String status);
  }

  private final URI url;
  private final Supplier<String> token;
  private final Clock clock;
  private final Duration pollEvery;
  private final Listener listener;
  private final HttpClient http;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final ConcurrentLinkedQueue<UUID> acks = new ConcurrentLinkedQueue<>();
  private volatile Consumer<List<UUID>> fallbackAcks = ids -> {};
  private volatile Runnable tokenExpired = () -> {};

  /** What the socket's threads hand to the loop, tagged with the attempt they belong to. */
  private sealed interface Event {
    int attempt();
  }

  private record Opened(int attempt, WebSocket ws) implements Event {}

  private record Frame(int attempt, JsonObject frame) implements Event {}

  /** {@code status}: the server's close code (0 when the socket failed without one). */
  private record Closed(int attempt, String why, int status) implements Event {
    Closed(int attempt, String why) {
      this(attempt, why, 0);
    }
  }

  /**
   * The close code (1013, "try again later") of a socket the server says may have missed a copy
   * (its push read failed, or its bus subscription was interrupted): fetch now, reconnect at once.
   */
  public static final int CLOSE_TRY_AGAIN = 1013;

  /**
   * The close code (4401) of a socket whose session token expired (the server closes it at the
   * token's expiry): the token is renewed ({@link #onTokenExpired}), what is pending fetched, and
   * the socket reopened at once.
   */
  public static final int CLOSE_EXPIRED = 4401;

  /** The current attempt: pending until {@code ws} is set, live once {@code ready} came. */
  private static final class Attempt {
    final int id;
    final long startedAt;
    final CompletableFuture<WebSocket> future;
    WebSocket ws;
    boolean live;
    long lastPing;

    /** The last frame sent: the JDK socket takes the next one only once it completed. */
    CompletableFuture<WebSocket> sending;

    /** Sends {@code text} after what was sent before it (in order, one at a time). */
    void send(String text) {
      sending =
          sending == null || sending.isDone()
              ? ws.sendText(text, true)
              : sending.thenCompose(w -> w.sendText(text, true));
    }

    Attempt(int id, long startedAt, CompletableFuture<WebSocket> future) {
      this.id = id;
      this.startedAt = startedAt;
      this.future = future;
    }

    void abort() {
      future.cancel(true);
      if (ws != null) {
        ws.abort();
      }
    }
  }

  /** With the system's trust for a {@code wss://} URL. */
  public LiveReceiver(
      URI url, Supplier<String> token, Clock clock, Duration pollEvery, Listener listener) {
    this(url, token, clock, pollEvery, listener, ClientTls.system());
  }

  /**
   * {@code tls}: how a {@code wss://} control plane is verified — the same CA file and pin as the
   * caller's HTTP calls ({@code JsonHttp.tls()}), so the session token goes only where they go.
   */
  public LiveReceiver(
      URI url,
      Supplier<String> token,
      Clock clock,
      Duration pollEvery,
      Listener listener,
      ClientTls tls) {
    this.http =
        HttpClient.newBuilder()
            // the socket's callbacks run on the client's selector thread: each only queues an
            // event for the loop, so no pool thread needs to take a frame over from the selector
            // (one hand-off and one wake-up less per frame; docs/benchmarks.md, "Messaging")
            .executor(Runnable::run)
            .sslContext(tls.sslContext())
            .connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MS))
            .build();
    this.url = url;
    this.token = token;
    this.clock = clock;
    this.pollEvery = pollEvery;
    this.listener = listener;
  }

  /**
   * ws(s) URL of the live route on {@code controlPlaneUrl}, asking for {@code messages} frames
   * ({@code ?frames=batch}: several copies a frame); single {@code message} frames are still read.
   */
  public static URI liveUrl(String controlPlaneUrl, java.util.UUID workspace) {
    URI base = URI.create(controlPlaneUrl);
    String scheme = "https".equalsIgnoreCase(base.getScheme()) ? "wss" : "ws";
    return URI.create(
        scheme
            + "://"
            + base.getRawAuthority()
            + ControlPlanePaths.messagesLive(workspace)
            + "?frames=batch");
  }

  /** The loop's state between ticks. */
  private final class Loop {
    long lastTick = clock.millis();
    // the first fetch waits for the first attempt to fail (or one poll interval): no double fetch
    // at start when the socket works
    long nextPoll = lastTick + pollEvery.toMillis();
    long nextConnect = lastTick;
    long backoff = RECONNECT_MIN_MS;
    boolean polling;
    int attempts;
    Attempt current;

    void tick(long now) {
      if (now - lastTick > WAKE_GAP_MS) {
        report("timer gap of " + (now - lastTick) / 1000 + " s (sleep?): reconnecting");
        drop();
        nextConnect = now;
        backoff = RECONNECT_MIN_MS;
        nextPoll = now + pollEvery.toMillis();
        safely(listener::fetch);
      }
      lastTick = now;
      if (current == null && now >= nextConnect) {
        current = connect(++attempts, now);
      } else if (current != null
          && current.ws == null
          && now - current.startedAt > CONNECT_TIMEOUT_MS) {
        closed(now, "no answer to the upgrade in " + CONNECT_TIMEOUT_MS / 1000 + " s");
      }
      if (current != null && current.live && now - current.lastPing >= PING_MS) {
        current.send("{\"type\":\"ping\"}");
        current.lastPing = now;
      }
      if ((current == null || !current.live) && now >= nextPoll) {
        if (!polling) {
          report("socket down: polling every " + pollEvery.toSeconds() + " s");
          polling = true;
        }
        nextPoll = now + pollEvery.toMillis();
        safely(listener::fetch);
      }
    }

    long waitMs(long now) {
      long wait = TICK_MS;
      if (current == null || !current.live) {
        wait = Math.min(wait, Math.max(1, nextPoll - now));
      }
      if (firstAckAt >= 0) {
        wait = Math.min(wait, Math.max(1, firstAckAt + ACK_LINGER_MS - now));
      }
      return wait;
    }

    /** When the oldest acknowledgement waiting was seen (-1: none waits). */
    long firstAckAt = -1;

    /**
     * Sends the acknowledgements waiting, once the oldest has waited {@link #ACK_LINGER_MS} or
     * {@link #MAX_ACK_IDS} wait: on the live socket, else to the fallback.
     */
    void acks(long now) {
      acks(now, false);
    }

    /** {@code ending}: the loop stops; what waits goes to the fallback at once. */
    void acks(long now, boolean ending) {
      if (acks.isEmpty()) {
        firstAckAt = -1;
        return;
      }
      if (firstAckAt < 0) {
        firstAckAt = now;
      }
      if (!ending && now - firstAckAt < ACK_LINGER_MS && acks.size() < MAX_ACK_IDS) {
        return;
      }
      firstAckAt = -1;
      while (!acks.isEmpty()) {
        List<UUID> ids = new ArrayList<>();
        for (UUID id = acks.poll();
            id != null;
            id = ids.size() < MAX_ACK_IDS ? acks.poll() : null) {
          ids.add(id);
        }
        if (!ending && current != null && current.live) {
          current.send(ackFrame(ids));
        } else {
          try {
            fallbackAcks.accept(ids);
          } catch (RuntimeException e) {
            // kept on the server until it comes again, then acknowledged as a duplicate
          }
        }
      }
    }

    void event(Event e, long now) {
      if (current == null || e.attempt() != current.id) {
        if (e instanceof Opened o) {
          o.ws().abort(); // an attempt given up on opened late
        }
        return;
      }
      switch (e) {
        case Opened o -> current.ws = o.ws();
        case Frame f -> frame(f.frame(), now);
        case Closed c -> {
          if (c.status() == CLOSE_TRY_AGAIN && current.live) {
            tryAgain(now, c.why());
          } else if (c.status() == CLOSE_EXPIRED && current.live) {
            expired(now, c.why());
          } else if (c.status() == CLOSE_EXPIRED) {
            // refused as expired before it went live (the server accepts a token up to its clock
            // skew past expiry, then closes): renew the token too, or every retry would offer it
            safely(tokenExpired);
            closed(now, c.why());
          } else {
            closed(now, c.why());
          }
        }
      }
    }

    private void frame(JsonObject frame, long now) {
      switch (frame.getString("type", "")) {
        case "ready" -> {
          current.live = true;
          current.lastPing = now;
          backoff = RECONNECT_MIN_MS;
          polling = false;
          report("connected");
          safely(listener::fetch);
        }
        case "message" -> {
          JsonObject m = frame.getJsonObject("message");
          if (m != null) {
            safely(() -> listener.message(m));
          }
        }
        case "messages" -> {
          List<JsonObject> ms = copies(frame);
          if (!ms.isEmpty()) {
            safely(() -> listener.messages(ms));
          }
        }
        default -> {}
      }
    }

    /** The copies of a {@code messages} frame (what is not an object is skipped). */
    private static List<JsonObject> copies(JsonObject frame) {
      List<JsonObject> out = new ArrayList<>();
      if (frame.getValue("messages") instanceof io.vertx.core.json.JsonArray a) {
        for (Object o : a) {
          if (o instanceof JsonObject m) {
            out.add(m);
          }
        }
      }
      return out;
    }

    private void closed(long now, String why) {
      boolean wasLive = current.live;
      drop();
      long jitter = ThreadLocalRandom.current().nextLong(backoff / 5 + 1);
      long pause = backoff - jitter;
      if (wasLive || !polling) {
        // failed attempts while polling stay quiet: the polling line already says it; the line
        // says what happens next, so a dropped socket does not read as the end
        report(
            (wasLive ? "disconnected (" : "cannot connect (")
                + why
                + "): reconnecting in "
                + Math.max(1, (pause + 999) / 1000)
                + " s");
      }
      nextConnect = now + pause;
      backoff = Math.min(RECONNECT_MAX_MS, backoff * 2);
      if (wasLive || !polling) {
        nextPoll = now; // fetch at once what the socket would have brought
      }
    }

    /**
     * The server closed a live socket with 1013: what it would have pushed may be missing, so fetch
     * at once, and reconnect within a second (jittered: every socket of an instance gets it at
     * once), without growing the pause (the server is up; the next attempt says if it is not).
     */
    private void tryAgain(long now, String why) {
      drop();
      report("live delivery interrupted (" + why + "): fetching pending, reconnecting");
      backoff = RECONNECT_MIN_MS;
      nextConnect = now + ThreadLocalRandom.current().nextLong(RECONNECT_MIN_MS + 1);
      nextPoll = now + pollEvery.toMillis();
      safely(listener::fetch);
    }

    /**
     * The server closed a live socket as its session token expired: forget the token, fetch what is
     * pending and reconnect at once with a fresh one (the server is up and the close is no failure:
     * the pause does not grow).
     */
    private void expired(long now, String why) {
      drop();
      safely(tokenExpired);
      report("session expired (" + why + "): fetching pending, reconnecting with a fresh token");
      backoff = RECONNECT_MIN_MS;
      nextConnect = now;
      nextPoll = now + pollEvery.toMillis();
      safely(listener::fetch);
    }

    void drop() {
      if (current != null) {
        current.abort();
        current = null;
      }
    }
  }

  /** Runs until {@code stop} says so (checked at least every second). */
  public void run(BooleanSupplier stop) throws InterruptedException {
    Loop loop = new Loop();
    try {
      while (!stop.getAsBoolean()) {
        long now = clock.millis();
        loop.tick(now);
        Event e = events.poll(loop.waitMs(now), TimeUnit.MILLISECONDS);
        if (e != null) {
          loop.event(e, clock.millis());
        }
        loop.acks(clock.millis());
      }
    } finally {
      loop.acks(clock.millis(), true); // a frame might not leave before the socket is dropped
      loop.drop();
    }
  }

  /**
   * Queues acknowledgements of copies stored locally (any thread; the loop sends them, see the
   * class comment). An ack lost with its socket only brings the copy back, acknowledged again as a
   * duplicate.
   */
  public void ack(List<UUID> ids) {
    acks.addAll(ids);
  }

  /** How acknowledgements go while the socket is not live (by default they are dropped). */
  public LiveReceiver fallbackAcks(Consumer<List<UUID>> fallback) {
    this.fallbackAcks = fallback;
    return this;
  }

  /**
   * What to do when the server closes the socket as its session token expired ({@link
   * #CLOSE_EXPIRED}), before reconnecting: forget a token the supplier keeps, so the reconnect gets
   * a fresh one (a supplier that mints one per call needs nothing).
   */
  public LiveReceiver onTokenExpired(Runnable forget) {
    this.tokenExpired = forget;
    return this;
  }

  /** The {@code ack} frame of {@code ids} (docs/messaging.md, "WebSocket protocol"). */
  static String ackFrame(List<UUID> ids) {
    StringBuilder b = new StringBuilder(22 + ids.size() * 39).append("{\"type\":\"ack\",\"ids\":[");
    for (int i = 0; i < ids.size(); i++) {
      b.append(i == 0 ? "\"" : ",\"").append(ids.get(i)).append('"');
    }
    return b.append("]}").toString();
  }

  private void report(String status) {
    safely(() -> listener.status(status));
  }

  private void safely(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      try {
        listener.status("failed: " + e.getMessage());
      } catch (RuntimeException ignored) {
        // a listener that cannot even report: nothing left to tell
      }
    }
  }

  private Attempt connect(int id, long now) {
    CompletableFuture<WebSocket> f;
    try {
      f =
          http.newWebSocketBuilder()
              .header("Authorization", "Bearer " + token.get())
              .connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MS))
              .buildAsync(url, new Frames(id));
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    // an open socket is reported by the listener's onOpen, ahead of its first frame: the future
    // may complete after the listener has already queued that frame (the "ready" then found the
    // attempt live with no socket to send acknowledgements on)
    f.whenComplete(
        (ws, err) -> {
          if (err != null) {
            events.add(new Closed(id, rootCause(err).getClass().getSimpleName()));
          }
        });
    return new Attempt(id, now, f);
  }

  /** A server's close reason as a status shows it: at most 64 printable ASCII characters. */
  static String printable(String reason) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < reason.length() && b.length() < 64; i++) {
      char c = reason.charAt(i);
      b.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return b.toString();
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  /** Collects text frames (bounded) and turns them into events for the loop. */
  private final class Frames implements WebSocket.Listener {
    private final int attempt;
    private final StringBuilder buf = new StringBuilder();

    Frames(int attempt) {
      this.attempt = attempt;
    }

    @Override
    public void onOpen(WebSocket ws) {
      events.add(new Opened(attempt, ws)); // before any other event of this socket
      ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      buf.append(data);
      if (buf.length() > 256 * 1024) {
        ws.abort();
        events.add(new Closed(attempt, "frame too large"));
        return null;
      }
      if (last) {
        try {
          events.add(new Frame(attempt, new JsonObject(buf.toString())));
        } catch (RuntimeException e) {
          ws.abort();
          events.add(new Closed(attempt, "malformed frame"));
        }
        buf.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      String why =
          "code " + status + (reason == null || reason.isBlank() ? "" : " " + printable(reason));
      events.add(new Closed(attempt, why, status));
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      events.add(new Closed(attempt, error.getClass().getSimpleName()));
    }
  }
}
