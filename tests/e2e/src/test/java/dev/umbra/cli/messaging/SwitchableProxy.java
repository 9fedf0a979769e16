package dev.umbra.cli.messaging;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of the control plane, as a load balancer or a corporate proxy would be: new
 * connections go to the target it is switched to (an instance that died is replaced by another),
 * and WebSocket upgrades can be swallowed (the request is read and never answered) while plain HTTP
 * passes. It looks only at the first request of each connection: a WebSocket client opens a
 * connection of its own for the upgrade.
 */
final class SwitchableProxy implements AutoCloseable {
  /** What happens to a WebSocket upgrade. */
  enum Upgrades {
    PASS,
    SWALLOW
  }

  private static final int MAX_HEAD = 64 * 1024;

  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile int target;
  private volatile Upgrades upgrades = Upgrades.PASS;
  final AtomicInteger upgradesPassed = new AtomicInteger();
  final AtomicInteger upgradesSwallowed = new AtomicInteger();

  private SwitchableProxy(ServerSocket server, int target) {
    this.server = server;
    this.target = target;
  }

  /** Listens on a free port of 127.0.0.1 and forwards to {@code targetPort}. */
  static SwitchableProxy start(int targetPort) throws IOException {
    SwitchableProxy p =
        new SwitchableProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), targetPort);
    Thread.ofVirtual().name("proxy-accept").start(p::acceptLoop);
    return p;
  }

  String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Connections opened from now on go to {@code port}. */
  void target(int port) {
    target = port;
  }

  void upgrades(Upgrades mode) {
    upgrades = mode;
  }

  private void acceptLoop() {
    try {
      while (true) {
        Socket client = server.accept();
        open.add(client);
        Thread.ofVirtual().start(() -> serve(client));
      }
    } catch (IOException closed) {
      // the proxy was closed
    }
  }

  private void serve(Socket client) {
    try {
      byte[] head = readHead(client.getInputStream());
      boolean upgrade =
          new String(head, StandardCharsets.ISO_8859_1)
              .toLowerCase(Locale.ROOT)
              .contains("upgrade: websocket");
      if (upgrade && upgrades == Upgrades.SWALLOW) {
        upgradesSwallowed.incrementAndGet();
        return; // read, never answered, left open until the client gives up
      }
      if (upgrade) {
        upgradesPassed.incrementAndGet();
      }
      Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
      open.add(upstream);
      upstream.getOutputStream().write(head);
      Thread.ofVirtual().start(() -> pipe(upstream, client));
      pipe(client, upstream);
    } catch (IOException e) {
      closeQuietly(client);
    }
  }

  /** Bytes up to the end of the first request head (or what came before the connection ended). */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (head.size() < MAX_HEAD) {
      int n = in.read(buf);
      if (n < 0) {
        break;
      }
      head.write(buf, 0, n);
      if (new String(head.toByteArray(), StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
        break;
      }
    }
    return head.toByteArray();
  }

  /** Copies until either side ends, then closes both (a dead instance drops its clients). */
  private void pipe(Socket from, Socket to) {
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      in.transferTo(out);
    } catch (IOException ended) {
      // reset or closed: the other side learns it below
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private void closeQuietly(Socket s) {
    open.remove(s);
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    open.forEach(this::closeQuietly);
  }
}
