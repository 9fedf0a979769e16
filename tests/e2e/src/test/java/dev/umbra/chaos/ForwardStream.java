package dev.umbra.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One TCP stream through `umbra forward`: a writer sends pseudo-random bytes into the forward's
 * local port at a steady rate until {@link #finish} (so a fault lands in the middle of it), a sink
 * on the machine's side reads them; both hash what they saw with SHA-256.
 */
final class ForwardStream {
  /** Bytes per second the writer aims at: enough to be moving at any moment of a fault. */
  static final long RATE = 2L * 1024 * 1024;

  private final Sink sink;
  private final AtomicBoolean stop = new AtomicBoolean();
  final AtomicLong sent = new AtomicLong();
  final CompletableFuture<String> sentDigest = new CompletableFuture<>();

  ForwardStream(Sink sink) {
    this.sink = sink;
  }

  /**
   * The machine's side: a server on 127.0.0.1 (the forward's target) that hashes each connection it
   * accepts, one after the other, and hands over its byte count and digest when it ends.
   */
  static final class Sink implements AutoCloseable {
    private final ServerSocket server;
    private final BlockingQueue<Object> done = new LinkedBlockingQueue<>();

    Sink() throws IOException {
      server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
      Thread.ofPlatform().daemon().name("chaos-sink").start(this::accept);
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        try (Socket c = server.accept();
            InputStream in = c.getInputStream()) {
          MessageDigest sha = sha256();
          byte[] buf = new byte[64 * 1024];
          long total = 0;
          int n;
          while ((n = in.read(buf)) >= 0) {
            sha.update(buf, 0, n);
            total += n;
          }
          done.add(total + " " + HexFormat.of().formatHex(sha.digest()));
        } catch (IOException e) {
          done.add(e);
        }
      }
    }

    /** "bytes digest" of the next connection to end. */
    String next(long timeoutSeconds) throws Exception {
      Object o = done.poll(timeoutSeconds, TimeUnit.SECONDS);
      if (o instanceof Exception e) {
        throw e;
      }
      if (o == null) {
        throw new IllegalStateException(
            "the sink saw no stream end within " + timeoutSeconds + " s");
      }
      return (String) o;
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  /** Starts writing into the forward's local {@code port}. */
  void start(int port) {
    Thread.ofPlatform().daemon().name("chaos-writer").start(() -> write(port));
  }

  private void write(int port) {
    MessageDigest sha = sha256();
    byte[] buf = new byte[32 * 1024];
    Random r = new Random(20);
    long t0 = System.nanoTime();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream os = s.getOutputStream();
      while (!stop.get()) {
        r.nextBytes(buf);
        os.write(buf);
        sha.update(buf);
        long total = sent.addAndGet(buf.length);
        long due = t0 + total * 1_000_000_000L / RATE;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait); // pacing to RATE, not waiting for a condition
        }
      }
      os.flush();
      s.shutdownOutput();
      sentDigest.complete(HexFormat.of().formatHex(sha.digest()));
      s.getInputStream().read(); // until the far side closes
    } catch (IOException e) {
      sentDigest.completeExceptionally(e);
    }
  }

  /** Stops writing; returns {sent "bytes digest", received "bytes digest"}. */
  String[] finish(long timeoutSeconds) throws Exception {
    stop.set(true);
    String digest = sentDigest.get(timeoutSeconds, TimeUnit.SECONDS);
    return new String[] {sent.get() + " " + digest, sink.next(timeoutSeconds)};
  }

  /**
   * After a failed fault: stops writing and takes this stream's end from the sink if it comes
   * within {@code timeoutSeconds}, so the sink is free for the next stream; what it saw is not
   * checked.
   */
  void abandon(long timeoutSeconds) {
    stop.set(true);
    try {
      sentDigest.get(timeoutSeconds, TimeUnit.SECONDS);
      sink.next(timeoutSeconds);
    } catch (Exception e) {
      System.out.println("chaos: an abandoned stream did not end cleanly: " + e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
