package dev.umbra.launcher;

import dev.umbra.client.http.JsonText;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The control plane as {@link AotTraining} needs it: a few fixed JSON answers over HTTP/1.1 on a
 * loopback socket, one connection at a time (the CLI's client closes each). Deliberately not
 * Vert.x: the classes of the stand-in end up in the cache too.
 */
final class TrainingServer implements AutoCloseable {
  private final ServerSocket socket;
  private final Thread thread;
  private final Map<String, Object> machines;
  private final Map<String, Object> workspaces;
  private final Map<String, Object> discovery;

  private TrainingServer(
      ServerSocket socket, UUID workspace, String relayUrl, String firstMachineKey) {
    this.socket = socket;
    List<Object> items = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", UUID.randomUUID().toString());
      m.put("name", "machine-" + i);
      m.put("os", "linux");
      m.put("status", "active");
      m.put("last_seen_at", "2026-01-01T00:00:00Z");
      m.put("created_at", "2026-01-01T00:00:00Z");
      m.put(
          "x25519_public_key",
          i == 0 && firstMachineKey != null
              ? firstMachineKey
              : HexFormat.of().formatHex(random32()));
      items.add(m);
    }
    this.machines = Map.of("items", items);
    this.workspaces = Map.of("items", List.of(Map.of("id", workspace.toString(), "name", "w")));
    this.discovery = Map.of("services", relayUrl == null ? Map.of() : Map.of("relay", relayUrl));
    this.thread = Thread.ofPlatform().daemon().name("aot-training-server").start(this::serve);
  }

  /**
   * Stands for a machine's X25519 key: any 32 bytes (a real key would load BouncyCastle into the
   * cli cache).
   */
  private static byte[] random32() {
    byte[] b = new byte[32];
    ThreadLocalRandom.current().nextBytes(b);
    return b;
  }

  /**
   * {@code firstMachineKey}: machine-0's X25519 key (hex) when a channel is to be opened to it,
   * else null.
   */
  static TrainingServer start(UUID workspace, String relayUrl, String firstMachineKey)
      throws IOException {
    return new TrainingServer(
        new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
        workspace,
        relayUrl,
        firstMachineKey);
  }

  String url() {
    return "http://127.0.0.1:" + socket.getLocalPort();
  }

  private void serve() {
    while (!socket.isClosed()) {
      try (Socket c = socket.accept()) {
        answer(c);
      } catch (IOException e) {
        // closed, or a client that went away: next one
      }
    }
  }

  private void answer(Socket c) throws IOException {
    InputStream in = c.getInputStream();
    StringBuilder head = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      head.append((char) b);
      if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
        break;
      }
    }
    String[] lines = head.toString().split("\r\n");
    String path = lines[0].split(" ")[1].replaceFirst("\\?.*", "");
    int length = 0;
    for (String l : lines) {
      if (l.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(l.substring(15).strip());
      }
    }
    in.readNBytes(length);
    Object body =
        path.endsWith("/machines")
            ? machines
            : path.equals("/v1/workspaces")
                ? workspaces
                : path.endsWith("/keyset")
                    ? Map.of("keysets", List.of())
                    : path.equals("/v1/sessions")
                        ? Map.of("token", "training-session-token")
                        : discovery;
    byte[] bytes = JsonText.encode(body).getBytes(StandardCharsets.UTF_8);
    OutputStream out = c.getOutputStream();
    out.write(
        ("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + bytes.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
  }

  @Override
  public void close() throws IOException {
    stop(socket, thread);
  }

  /** Closes a stand-in's listening socket and waits for its accepting thread to end. */
  static void stop(ServerSocket socket, Thread thread) throws IOException {
    socket.close();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
