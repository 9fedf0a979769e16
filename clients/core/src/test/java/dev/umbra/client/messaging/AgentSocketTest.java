package dev.umbra.client.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's local socket: 0600 from the moment its path exists, serves only its owner's
 * processes, and it serves lines.
 */
class AgentSocketTest {
  @TempDir Path dir;

  @Test
  void theSocketIsPrivateTheMomentItsPathExists() throws Exception {
    Path open = Files.createDirectory(dir.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path sock = open.resolve("agent.sock");
    try (AgentSocket s = AgentSocket.start(sock, r -> "{\"ok\":true}\n".getBytes())) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)))
          .isEqualTo("rw-------");
      try (Stream<Path> files = Files.list(open)) {
        assertThat(files).as("no temporary name left behind").containsExactly(sock);
      }
      try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
        OutputStream out = Channels.newOutputStream(c);
        out.write("{\"op\":\"recv\"}\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
        assertThat(in.readLine()).isEqualTo("{\"ok\":true}");
      }
    }
    assertThat(sock).doesNotExist();
  }

  @Test
  @Timeout(30) // without the check it would wait for the answer to a request it never sent
  void aProcessOfAnotherUserIsRefusedWhateverTheFileModeSays() throws Exception {
    // a connection made while the socket still had the umask's mode waits in the listen backlog:
    // the peer's credentials decide, not the mode at connect time
    Path sock = dir.resolve("agent.sock");
    UserPrincipal someoneElse =
        FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
    AtomicInteger handled = new AtomicInteger();
    try (AgentSocket s =
        AgentSocket.start(
            sock,
            r -> {
              handled.incrementAndGet();
              return "{\"ok\":true}\n".getBytes();
            },
            someoneElse)) {
      try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
        // refused on arrival, before it says anything
        BufferedReader in =
            new BufferedReader(
                new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
        assertThat(in.readLine()).contains("\"ok\":false").contains("\"error\":\"not_owner\"");
        assertThat(in.readLine()).as("then closed").isNull();
      }
    }
    assertThat(handled).as("no request of a stranger is handled").hasValue(0);
  }

  @Test
  void anOldSocketFileIsReplaced() throws Exception {
    Path sock = dir.resolve("agent.sock");
    try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(sock));
    }
    assertThat(sock).exists();
    try (AgentSocket s = AgentSocket.start(sock, r -> "{\"ok\":true}\n".getBytes())) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)))
          .isEqualTo("rw-------");
    }
  }
}
