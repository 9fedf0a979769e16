package dev.umbra.launcher;

import com.google.protobuf.ByteString;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelLoop;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.RelayWebSocket;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ExitStatus;
import dev.umbra.proto.channel.Started;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The relay and a machine's daemon as the {@code run} training of {@link AotTraining} needs them: a
 * WebSocket on a loopback socket ({@link RelayWebSocket#accept}, not Vert.x: {@code umbra run} no
 * longer loads it) where the daemon side of each channel answers the Noise handshake, starts
 * nothing and answers every command with its words on stdout and exit status 0. So the training
 * runs the CLI's real one-shot path end to end: WebSocket upgrade, Noise IK, channel start, output,
 * exit status, close.
 */
final class TrainingRelay implements AutoCloseable {
  private final ServerSocket socket;
  private final String workspace;
  private final X25519KeyPair daemonKey;
  private final Thread thread;

  private TrainingRelay(ServerSocket socket, String workspace, X25519KeyPair daemonKey) {
    this.socket = socket;
    this.workspace = workspace;
    this.daemonKey = daemonKey;
    this.thread = Thread.ofPlatform().daemon().name("aot-training-relay").start(this::serve);
  }

  static TrainingRelay start(String workspace, X25519KeyPair daemonKey) throws IOException {
    return new TrainingRelay(
        new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), workspace, daemonKey);
  }

  /** The relay's service URL, as discovery gives it. */
  String serviceUrl() {
    return "http://127.0.0.1:" + socket.getLocalPort();
  }

  private void serve() {
    while (!socket.isClosed()) {
      try {
        Socket c = socket.accept();
        Thread.ofPlatform()
            .daemon()
            .name("aot-training-relay-connection")
            .start(() -> connection(c));
      } catch (IOException e) {
        // closed
      }
    }
  }

  private void connection(Socket c) {
    ChannelLoop loop = new ChannelLoop("aot-training-daemon");
    try (c) {
      RelayWebSocket ws = RelayWebSocket.accept(c);
      Map<Long, SecureChannel> channels = new HashMap<>();
      byte[] m;
      while ((m = ws.receive()) != null) {
        RelayFrame f = RelayFrame.parseFrom(m);
        loop.execute(() -> frame(ws, loop, channels, f));
      }
    } catch (IOException e) {
      // the CLI closed the connection
    } finally {
      loop.stop();
    }
  }

  private void frame(
      RelayWebSocket ws, ChannelLoop loop, Map<Long, SecureChannel> channels, RelayFrame f) {
    if (f.getType() != FrameType.FRAME_TYPE_OPEN) {
      SecureChannel c = channels.get(f.getChannelId());
      if (c != null) {
        c.onFrame(f);
      }
      return;
    }
    HandshakeState hs =
        HandshakeState.responder(
            ChannelProtocol.suite(null),
            daemonKey,
            RelayPrologue.encode(workspace, f.getTargetId()),
            null);
    hs.readMessage(f.getPayload().toByteArray());
    byte[] m2 = hs.writeMessage(new byte[0]);
    send(
        ws,
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_ACCEPT)
            .setWorkspaceId(workspace)
            .setTargetId(f.getTargetId())
            .setChannelId(f.getChannelId())
            .setPayload(ByteString.copyFrom(m2))
            .build());
    SecureChannel channel =
        new SecureChannel(
            loop, workspace, f.getTargetId(), f.getChannelId(), hs.split(), r -> send(ws, r));
    channels.put(f.getChannelId(), channel);
    channel.onEnd(e -> channels.remove(f.getChannelId()));
    channel.listener(
        new SecureChannel.Listener() {
          @Override
          public void onMessage(ChannelMessage message) {
            if (message.hasStart()) {
              channel.send(
                  ChannelMessage.newBuilder()
                      .setStarted(Started.newBuilder().setSessionId("training"))
                      .build());
              String words = String.join(" ", message.getStart().getRun().getArgvList()) + "\n";
              channel.send(
                  ChannelMessage.newBuilder()
                      .setData(
                          StreamData.newBuilder()
                              .setStream(Stream.STREAM_STDOUT)
                              .setBytes(ByteString.copyFrom(words, StandardCharsets.UTF_8)))
                      .build());
              channel.send(
                  ChannelMessage.newBuilder().setExit(ExitStatus.newBuilder().setCode(0)).build());
            }
          }

          @Override
          public void onClosed(ChannelClosedException error) {
            // the CLI closes the channel after the exit status
          }
        });
  }

  private static void send(RelayWebSocket ws, RelayFrame f) {
    try {
      ws.send(f.toByteArray());
    } catch (IOException e) {
      // the CLI went away
    }
  }

  @Override
  public void close() throws IOException {
    TrainingServer.stop(socket, thread);
  }
}
