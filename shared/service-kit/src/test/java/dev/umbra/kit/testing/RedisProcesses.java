package dev.umbra.kit.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Redis servers started from Debian's {@code redis-server} for one test class, each on a free port
 * with its files in one temporary directory; {@link #close} stops them all and deletes the
 * directory. {@link #command} is a small blocking RESP client for the fixtures' own polling (never
 * on an event loop).
 */
public final class RedisProcesses implements AutoCloseable {
  private static final int TIMEOUT_MS = 2_000;

  private final Path dir;
  private final Map<Integer, Process> servers = new ConcurrentHashMap<>();

  public RedisProcesses() {
    try {
      dir = Files.createTempDirectory("umbra-redis-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path dir() {
    return dir;
  }

  /**
   * A port free now, with {@code port + offset} free too (a Cluster node also listens on its port +
   * 10000 for the cluster bus).
   */
  public static int freePort(int offset) {
    for (int attempt = 0; attempt < 100; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (offset == 0 || (port + offset < 65_536 && bindable(port + offset))) {
        return port;
      }
    }
    throw new IllegalStateException("no free port pair found");
  }

  private static boolean bindable(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Starts {@code redis-server} on {@code port} with {@code args} (after the config file, if the
   * first argument is one) and waits until it answers PING.
   */
  public void start(int port, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("redis-server");
    cmd.addAll(args);
    cmd.addAll(
        List.of("--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--dir"));
    Path nodeDir = dir.resolve(Integer.toString(port));
    cmd.add(nodeDir.toString());
    try {
      Files.createDirectories(nodeDir);
      Process p =
          new ProcessBuilder(cmd)
              .directory(nodeDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(nodeDir.resolve("server.log").toFile())
              .start();
      servers.put(port, p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start redis-server (apt-get install redis-server)", e);
    }
    Eventually.await(
        "redis-server on port " + port + " answers PING",
        Duration.ofSeconds(10),
        () -> "PONG".equals(command(port, "PING")));
  }

  /** Kills the server on {@code port} (SIGKILL) and waits for it to be gone. */
  public void kill(int port) {
    Process p = servers.remove(port);
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Freezes the server on {@code port} (SIGSTOP): its connections stay up and nothing answers, as
   * with a partition or a frozen host. {@link #thaw} (SIGCONT) resumes it.
   */
  public void freeze(int port) {
    signal(port, "-STOP");
  }

  /** Resumes a server {@link #freeze} stopped. */
  public void thaw(int port) {
    signal(port, "-CONT");
  }

  private void signal(int port, String signal) {
    Process p = servers.get(port);
    if (p == null) {
      throw new IllegalStateException("no redis-server of ours on port " + port);
    }
    run(List.of("kill", signal, Long.toString(p.pid())), Duration.ofSeconds(10));
  }

  /**
   * Sends one command and returns its reply as text (arrays flattened one element a line); an error
   * reply throws.
   */
  public static String command(int port, String... args) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
      s.setSoTimeout(TIMEOUT_MS);
      OutputStream out = s.getOutputStream();
      StringBuilder req = new StringBuilder("*" + args.length + "\r\n");
      for (String a : args) {
        req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
        req.append(a).append("\r\n");
      }
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      StringBuilder reply = new StringBuilder();
      read(new BufferedInputStream(s.getInputStream()), reply);
      return reply.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void read(InputStream in, StringBuilder reply) throws IOException {
    String line = line(in);
    char type = line.charAt(0);
    String rest = line.substring(1);
    switch (type) {
      case '+', ':' -> reply.append(rest);
      case '-' -> throw new IOException("Redis error: " + rest);
      case '$' -> {
        int n = Integer.parseInt(rest);
        if (n >= 0) {
          reply.append(new String(in.readNBytes(n), StandardCharsets.UTF_8));
          in.readNBytes(2);
        }
      }
      case '*' -> {
        int n = Integer.parseInt(rest);
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            reply.append('\n');
          }
          read(in, reply);
        }
      }
      default -> throw new IOException("unexpected RESP type " + type);
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\r') {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      b.write(c);
    }
    in.read(); // '\n'
    return b.toString(StandardCharsets.UTF_8);
  }

  /** Runs a tool such as {@code redis-cli} to completion; fails with its output if it fails. */
  public void run(List<String> cmd, Duration within) {
    try {
      Path log = Files.createTempFile(dir, "tool-", ".log");
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!p.waitFor(within.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(cmd.get(0) + " did not finish: " + Files.readString(log));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(cmd.get(0) + " failed: " + Files.readString(log));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (Integer port : List.copyOf(servers.keySet())) {
      kill(port);
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temporary directory is harmless
    }
  }
}
