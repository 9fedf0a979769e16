package dev.umbra.relay.testing;

import dev.umbra.kit.testing.TestRedis;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the PUBLISH commands Redis itself receives whose line names {@code mark} (e.g. a target id
 * of the test's own), through a {@code MONITOR} connection: unlike a subscriber, it does not count
 * as a receiver of what it sees. Reads on its own thread until closed.
 */
public final class RedisMonitor implements AutoCloseable {
  private final Socket socket;
  private final AtomicInteger publishes = new AtomicInteger();

  private RedisMonitor(Socket socket) {
    this.socket = socket;
  }

  public static RedisMonitor open(String mark) {
    URI url = TestRedis.url();
    try {
      Socket s = new Socket(url.getHost(), url.getPort());
      s.getOutputStream().write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      if (!"+OK".equals(in.readLine())) {
        s.close();
        throw new IllegalStateException("MONITOR refused");
      }
      RedisMonitor m = new RedisMonitor(s);
      Thread reader =
          new Thread(
              () -> {
                try {
                  for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.toLowerCase(Locale.ROOT).contains("] \"publish\" ")
                        && line.contains(mark)) {
                      m.publishes.incrementAndGet();
                    }
                  }
                } catch (IOException e) {
                  // closed
                }
              },
              "redis-monitor");
      reader.setDaemon(true);
      reader.start();
      return m;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** PUBLISH commands naming the mark seen so far. */
  public int publishes() {
    return publishes.get();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }
}
