package dev.umbra.client.messaging;

import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Live delivery with its fallbacks (docs/messaging.md, "WebSocket protocol" and "Clients"): the
 * socket {@code /messages/live} with the session token in the {@code Authorization} header; on
 * {@code ready} a full pending fetch; while the socket is down a pending fetch every {@code
 * pollEvery} (15 s) and a reconnect attempt; a gap over {@value #WAKE_GAP_MS} ms between two ticks
 * of the wall clock (the machine slept) forces a reconnect and a fetch. Everything the listener
 * gets runs on the thread that called {@link #run}.
 */
public final class LiveReceiver {
  public static final long WAKE_GAP_MS = 120_000;
  static final long TICK_MS = 1_000;

  /** A {@code ping} this often keeps the socket under the server's idle limit (90 s default). */
  public static final long PING_MS = 30_000;

  /** What the loop reports. */
  public interface Listener {
    /** Fetch everything pending (after ready, while polling, after a wake). */
    void fetch();

    /** One copy pushed by the socket. */
    void message(JsonObject message);

    /** A status line for people ("connected", "socket down: polling every 15 s", ...). */
    void status(String status);
  }

  private final URI url;
  private final Supplier<String> token;
  private final Clock clock;
  private final Duration pollEvery;
  private final Listener listener;
  private final HttpClient http = HttpClient.newHttpClient();
  private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();

  private record Closed(String why) {}

  public LiveReceiver(
      URI url, Supplier<String> token, Clock clock, Duration pollEvery, Listener listener) {
    this.url = url;
    this.token = token;
    this.clock = clock;
    this.pollEvery = pollEvery;
    this.listener = listener;
  }

  /** ws(s) URL of the live route on {@code controlPlaneUrl}. */
  public static URI liveUrl(String controlPlaneUrl, java.util.UUID workspace) {
    URI base = URI.create(controlPlaneUrl);
    String scheme = "https".equalsIgnoreCase(base.getScheme()) ? "wss" : "ws";
    return URI.create(
        scheme + "://" + base.getRawAuthority() + ControlPlanePaths.messagesLive(workspace));
  }

  /** Runs until {@code stop} says so (checked at least every second). */
  public void run(BooleanSupplier stop) throws InterruptedException {
    long lastTick = clock.millis();
    long nextPoll = 0;
    WebSocket ws = null;
    long lastPing = 0;
    while (!stop.getAsBoolean()) {
      long now = clock.millis();
      if (ws != null && now - lastPing >= PING_MS) {
        ws.sendText("{\"type\":\"ping\"}", true);
        lastPing = now;
      }
      if (now - lastTick > WAKE_GAP_MS) {
        listener.status("timer gap of " + (now - lastTick) / 1000 + " s (sleep?): reconnecting");
        if (ws != null) {
          ws.abort();
          ws = null;
        }
        listener.fetch();
      }
      lastTick = now;
      if (ws == null) {
        ws = connect();
        lastPing = now;
        if (ws == null && now >= nextPoll) {
          listener.status("socket down: polling every " + pollEvery.toSeconds() + " s");
          listener.fetch();
          nextPoll = now + pollEvery.toMillis();
        }
      }
      Object e =
          events.poll(
              ws == null ? Math.min(TICK_MS, pollEvery.toMillis()) : TICK_MS,
              TimeUnit.MILLISECONDS);
      if (e instanceof JsonObject frame) {
        handle(frame);
      } else if (e instanceof Closed c) {
        listener.status("disconnected (" + c.why() + ")");
        ws = null;
        nextPoll = 0;
      }
    }
    if (ws != null) {
      ws.abort();
    }
  }

  private void handle(JsonObject frame) {
    switch (frame.getString("type", "")) {
      case "ready" -> {
        listener.status("connected");
        listener.fetch();
      }
      case "message" -> {
        JsonObject m = frame.getJsonObject("message");
        if (m != null) {
          listener.message(m);
        }
      }
      default -> {}
    }
  }

  private WebSocket connect() {
    try {
      return http.newWebSocketBuilder()
          .header("Authorization", "Bearer " + token.get())
          .connectTimeout(Duration.ofSeconds(10))
          .buildAsync(url, new Frames())
          .get(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Collects text frames (bounded) and turns them into events for the loop. */
  private final class Frames implements WebSocket.Listener {
    private final StringBuilder buf = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      buf.append(data);
      if (buf.length() > 256 * 1024) {
        ws.abort();
        events.add(new Closed("frame too large"));
        return null;
      }
      if (last) {
        try {
          events.add(new JsonObject(buf.toString()));
        } catch (RuntimeException e) {
          ws.abort();
          events.add(new Closed("malformed frame"));
        }
        buf.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      events.add(new Closed("code " + status));
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      events.add(new Closed(error.getClass().getSimpleName()));
    }
  }
}
