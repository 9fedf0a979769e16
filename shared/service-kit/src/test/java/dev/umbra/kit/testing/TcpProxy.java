package dev.umbra.kit.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TCP hop between a service instance and something it talks to (Redis, PostgreSQL, a peer relay),
 * which the test can break the ways a network does: {@link #partition} stops forwarding in both
 * directions without closing anything (a black hole: writes are accepted until the buffers fill,
 * nothing answers, no FIN or RST arrives; a connection made meanwhile is held, not passed on),
 * {@link #heal} lets everything held go on in order, {@link #sever} resets every connection through
 * it (a link cut while both ends live).
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final int target;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition open = lock.newCondition();
  private boolean partitioned; // guarded by lock
  public final AtomicLong connections = new AtomicLong();

  /** A proxy on a free loopback port to {@code target} on loopback. */
  public TcpProxy(int target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().name("chaos-proxy-" + target).start(this::accept);
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Stops forwarding anything, either way, without closing a connection. */
  public void partition() {
    lock.lock();
    try {
      partitioned = true;
    } finally {
      lock.unlock();
    }
  }

  /** Forwards again what was held and what comes. */
  public void heal() {
    lock.lock();
    try {
      partitioned = false;
      open.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Resets every connection through the proxy (RST both ways); new ones are passed on. */
  public void sever() {
    for (Socket s : sockets) {
      reset(s);
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        Thread.ofVirtual().start(() -> connect(in));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void connect(Socket in) {
    sockets.add(in);
    try {
      awaitOpen();
      Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
      sockets.add(out);
      connections.incrementAndGet();
      Thread.ofVirtual().start(() -> pump(in, out));
      pump(out, in);
    } catch (IOException | InterruptedException e) {
      reset(in);
    }
  }

  private void pump(Socket from, Socket to) {
    byte[] buf = new byte[16 * 1024];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buf)) >= 0) {
        awaitOpen();
        out.write(buf, 0, n);
      }
      to.shutdownOutput();
    } catch (IOException | InterruptedException e) {
      reset(from);
      reset(to);
    }
  }

  private void awaitOpen() throws InterruptedException {
    lock.lock();
    try {
      while (partitioned) {
        open.await();
      }
    } finally {
      lock.unlock();
    }
  }

  private void reset(Socket s) {
    sockets.remove(s);
    try {
      s.setSoLinger(true, 0);
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    heal();
    server.close();
    sever();
  }
}
