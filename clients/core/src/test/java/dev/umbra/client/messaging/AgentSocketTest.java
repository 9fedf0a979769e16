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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's local socket: 0600 from the moment its path exists, and it serves lines. */
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
