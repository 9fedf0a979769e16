package dev.umbra.client.messaging;

import dev.umbra.client.messaging.AgentProtocol.ProtocolException;
import dev.umbra.client.messaging.AgentProtocol.Refusal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

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
  private final Thread acceptor;

  private AgentSocket(Path path, ServerSocketChannel server, Handler handler) {
    this.path = path;
    this.server = server;
    this.acceptor = Thread.ofVirtual().name("agent-socket").start(() -> accept(handler));
  }

  /** Binds {@code path} (an old socket file there is replaced) and starts serving. */
  public static AgentSocket start(Path path, Handler handler) throws IOException {
    Files.deleteIfExists(path);
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    s.bind(UnixDomainSocketAddress.of(path));
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    return new AgentSocket(path, s, handler);
  }

  public Path path() {
    return path;
  }

  private void accept(Handler handler) {
    while (server.isOpen()) {
      try {
        SocketChannel c = server.accept();
        Thread.ofVirtual().name("agent-socket-conn").start(() -> serve(c, handler));
      } catch (IOException e) {
        return;
      }
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
