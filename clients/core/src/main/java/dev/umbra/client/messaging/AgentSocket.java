package dev.umbra.client.messaging;

import dev.umbra.client.messaging.AgentProtocol.ProtocolException;
import dev.umbra.client.messaging.AgentProtocol.Refusal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.concurrent.ThreadLocalRandom;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The agent's local socket (docs/messaging.md, "Agent socket"): a Unix domain socket, mode 0600 in
 * a 0700 directory, serving {@link AgentProtocol} lines, one thread per connection. Plaintext
 * crosses only this socket; keys never do.
 */
public final class AgentSocket implements AutoCloseable {
  /** Answers one parsed request with one line (newline included). */
  public interface Handler {
    byte[] handle(AgentProtocol.Request request) throws Exception;
  }

  private final Path path;
  private final ServerSocketChannel server;
  private final UserPrincipal owner;
  private final Thread acceptor;

  private AgentSocket(Path path, ServerSocketChannel server, UserPrincipal owner, Handler handler) {
    this.path = path;
    this.server = server;
    this.owner = owner;
    this.acceptor = Thread.ofVirtual().name("agent-socket").start(() -> accept(handler));
  }

  /**
   * Binds {@code path} (an old socket file there is replaced) and starts serving. The socket is
   * bound under a temporary name, made 0600, then renamed into place: bind(2) creates the file with
   * the umask's mode, and a socket that appeared at {@code path} before its chmod could be
   * connected to by anyone (a {@code --socket} outside the agent's 0700 directory). A connection
   * made in that moment would still wait in the listen backlog, so every accepted connection must
   * also come from a process of the socket's owner (its peer credentials), else it is refused with
   * {@code not_owner} and closed.
   */
  public static AgentSocket start(Path path, Handler handler) throws IOException {
    return start(path, handler, null);
  }

  /**
   * As {@link #start(Path, Handler)}, serving only processes of {@code owner} (null: the user the
   * socket file belongs to, i.e. this process's).
   */
  static AgentSocket start(Path path, Handler handler, UserPrincipal owner) throws IOException {
    // short, so that a path that fits sun_path (108 bytes) with its own name fits with this one
    String temporary = Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 35), 36);
    Path bound = path.resolveSibling("." + temporary);
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      s.bind(UnixDomainSocketAddress.of(bound));
      Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
      if (owner == null) {
        owner = Files.getOwner(bound);
      }
      Files.move(bound, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      s.close();
      Files.deleteIfExists(bound);
      throw e;
    }
    return new AgentSocket(path, s, owner, handler);
  }

  public Path path() {
    return path;
  }

  private void accept(Handler handler) {
    while (server.isOpen()) {
      try {
        SocketChannel c = server.accept();
        Thread.ofVirtual().name("agent-socket-conn").start(() -> serveOwner(c, handler));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serveOwner(SocketChannel c, Handler handler) {
    try {
      UnixDomainPrincipal peer = c.getOption(ExtendedSocketOptions.SO_PEERCRED);
      if (!owner.equals(peer.user())) {
        try (c) {
          c.write(
              ByteBuffer.wrap(
                  AgentProtocol.error(
                      Refusal.NOT_OWNER, "this socket serves only its owner's processes")));
        }
        return;
      }
    } catch (IOException | UnsupportedOperationException e) {
      closeQuietly(c); // no peer credentials: nobody is served who could not be checked
      return;
    }
    serve(c, handler);
  }

  private static void closeQuietly(SocketChannel c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing
    }
  }

  static void serve(SocketChannel c, Handler handler) {
    try (c;
        InputStream in = Channels.newInputStream(c);
        OutputStream out = Channels.newOutputStream(c)) {
      serve(in, out, handler);
    } catch (IOException e) {
      // the peer went away
    }
  }

  /** Serves lines from {@code in} until its end or a framing error (answered, then closed). */
  public static void serve(InputStream in, OutputStream out, Handler handler) throws IOException {
    while (true) {
      byte[] line;
      try {
        line = AgentProtocol.readLine(in);
      } catch (ProtocolException e) {
        out.write(AgentProtocol.error(e.refusal(), e.getMessage()));
        out.flush();
        return;
      }
      if (line == null) {
        return;
      }
      byte[] answer;
      try {
        answer = handler.handle(AgentProtocol.parse(line));
      } catch (ProtocolException e) {
        answer = AgentProtocol.error(e.refusal(), e.getMessage());
      } catch (Exception e) {
        answer = AgentProtocol.error(Refusal.FAILED, String.valueOf(e.getMessage()));
      }
      out.write(answer);
      out.flush();
    }
  }

  @Override
  public void close() {
    try {
      server.close();
      acceptor.join(2000);
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // closing
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
