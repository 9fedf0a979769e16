package dev.umbra.cli.tty;

import dev.umbra.cli.CliException;
import dev.umbra.crypto.keys.KeyFiles;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * How {@code umbra tty control request|give <participant>} reaches the running {@code umbra tty} of
 * the same user: a Unix socket {@code UMBRA_HOME/cli/tty/sessions/<session>.sock} (directory 0700)
 * taking one line ("request", "give <participant>", "take", "who") and answering one line.
 */
final class ControlSocket implements AutoCloseable {
  private final Path path;
  private final ServerSocketChannel server;

  private ControlSocket(Path path, ServerSocketChannel server) {
    this.path = path;
    this.server = server;
  }

  static Path dir(Path ttyDir) {
    return ttyDir.resolve("sessions");
  }

  /**
   * Listens for commands of the session; {@code handler} turns a command line into a reply line.
   */
  static ControlSocket listen(Path ttyDir, String sessionId, Function<String, String> handler)
      throws IOException {
    Path dir = KeyFiles.ensurePrivateDirectory(dir(ttyDir));
    Path path = dir.resolve(sessionId + ".sock");
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    ControlSocket s = new ControlSocket(path, server);
    Thread.ofVirtual()
        .name("tty-control")
        .start(
            () -> {
              while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                  ByteBuffer in = ByteBuffer.allocate(512);
                  c.read(in);
                  String line =
                      new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).strip();
                  String reply = handler.apply(line);
                  c.write(ByteBuffer.wrap((reply + "\n").getBytes(StandardCharsets.UTF_8)));
                } catch (IOException e) {
                  // closed, or a client went away
                }
              }
            });
    return s;
  }

  /** Sends one command to the running session (the only one when {@code sessionId} is null). */
  static String send(Path ttyDir, String sessionId, String command) {
    Path dir = dir(ttyDir);
    Path path;
    try {
      if (sessionId != null) {
        path = dir.resolve(sessionId + ".sock");
      } else {
        try (var s = Files.list(dir)) {
          var socks = s.filter(p -> p.toString().endsWith(".sock")).toList();
          if (socks.size() != 1) {
            throw new CliException(
                socks.isEmpty()
                    ? "no `umbra tty` session is running here"
                    : "more than one `umbra tty` session is running: pass --session");
          }
          path = socks.get(0);
        }
      }
      try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
        c.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
        c.shutdownOutput();
        ByteBuffer in = ByteBuffer.allocate(4096);
        while (c.read(in) > 0) {
          // read the whole reply
        }
        return new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).strip();
      }
    } catch (IOException e) {
      throw new CliException("no running `umbra tty` session to control (" + e.getMessage() + ")");
    }
  }

  @Override
  public void close() {
    try {
      server.close();
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // best effort
    }
  }
}
