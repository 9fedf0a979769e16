package dev.umbra.bench.webtty;

import io.vertx.core.json.JsonArray;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * wetty (npm, node-pty + socket.io) serving a command on localhost, and a minimal socket.io v4
 * client over a plain WebSocket: Engine.IO open/ping, namespace connect, events {@code input},
 * {@code data}, {@code commit} (wetty's flow control) and {@code logout}. As root on localhost
 * wetty spawns {@code env -S <command>} in a PTY without ssh.
 */
final class Wetty implements AutoCloseable {
  private final Process process;
  private final int port;
  private WebSocket ws;
  private final LinkedBlockingQueue<String> data = new LinkedBlockingQueue<>();
  private final AtomicLong received = new AtomicLong();
  private final CompletableFuture<Void> logout = new CompletableFuture<>();
  private final CompletableFuture<Void> connected = new CompletableFuture<>();
  private volatile long connectedAt;

  private Wetty(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static Wetty start(Path mainJs, String shellCommand) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process p =
        new ProcessBuilder(
                List.of(
                    "node",
                    mainJs.toString(),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    String.valueOf(port),
                    "--base",
                    "/wetty",
                    "--command",
                    "/bin/sh -c '" + shellCommand + "'",
                    "--log-level",
                    "error"))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    Wetty w = new Wetty(p, port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        w.connect();
        break;
      } catch (Exception e) {
        if (System.nanoTime() > deadline || !p.isAlive()) {
          p.destroy();
          throw new IllegalStateException("wetty did not start", e);
        }
        Thread.sleep(200);
      }
    }
    return w;
  }

  private void connect() throws Exception {
    StringBuilder partial = new StringBuilder();
    ws =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(
                URI.create(
                    "ws://127.0.0.1:" + port + "/wetty/socket.io/?EIO=4&transport=websocket"),
                new WebSocket.Listener() {
                  @Override
                  public CompletionStage<?> onText(
                      WebSocket socket, CharSequence text, boolean last) {
                    partial.append(text);
                    if (last) {
                      handle(socket, partial.toString());
                      partial.setLength(0);
                    }
                    socket.request(1);
                    return null;
                  }
                })
            .get(5, TimeUnit.SECONDS);
    connected.get(10, TimeUnit.SECONDS);
  }

  private void handle(WebSocket socket, String m) {
    if (m.startsWith("0")) {
      send(socket, "40");
    } else if (m.equals("2")) {
      send(socket, "3");
    } else if (m.startsWith("40")) {
      connectedAt = System.nanoTime();
      connected.complete(null);
    } else if (m.startsWith("42")) {
      JsonArray ev = new JsonArray(m.substring(2));
      switch (ev.getString(0)) {
        case "data" -> {
          String d = ev.getString(1);
          received.addAndGet(d.length());
          data.add(d);
          // wetty pauses the PTY until the client commits what it rendered
          send(socket, "42[\"commit\"," + d.length() + "]");
        }
        case "logout" -> logout.complete(null);
        default -> {}
      }
    }
  }

  private void input(String s) {
    send(ws, "42" + new JsonArray().add("input").add(s).encode());
  }

  /** One send at a time (the JDK WebSocket refuses overlapping sends). */
  private synchronized void send(WebSocket socket, String text) {
    socket.sendText(text, true).join();
  }

  WebTtyBench.Rtt rtt(int keystrokes, int warmup) throws Exception {
    StringBuilder seen = new StringBuilder();
    while (!seen.toString().contains("READY")) {
      seen.append(data.poll(30, TimeUnit.SECONDS));
    }
    long[] rtts = new long[keystrokes];
    for (int i = -warmup; i < keystrokes; i++) {
      long t0 = System.nanoTime();
      input("x");
      int got = 0;
      while (got < 1) {
        got += data.take().length();
      }
      if (i >= 0) {
        rtts[i] = System.nanoTime() - t0;
      }
    }
    return WebTtyBench.stats(rtts);
  }

  /** Output of a command that prints and exits (the connection was opened by start()). */
  WebTtyBench.Bulk bulk() throws Exception {
    logout.get(10, TimeUnit.MINUTES);
    return new WebTtyBench.Bulk(received.get(), (System.nanoTime() - connectedAt) / 1e9);
  }

  @Override
  public void close() throws IOException {
    if (ws != null) {
      ws.abort();
    }
    process.destroy();
  }
}
