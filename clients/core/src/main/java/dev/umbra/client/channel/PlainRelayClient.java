package dev.umbra.client.channel;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.client.http.ClientTls;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.relay.RelayFrame;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The relay client of one-shot commands ({@code umbra run}), without Vert.x: one {@link
 * RelayWebSocket} whose frames a reader thread hands to a {@link ChannelOpener} on a {@link
 * ChannelLoop}. The same channels, handshake and framing as the reconnecting Vert.x client; what
 * differs is that the connection is not remade: when it ends (the relay closed it, went away, or
 * sent something malformed), every channel fails with {@link #RELAY_LOST} and why, so the command
 * ends with that message instead of waiting.
 */
public final class PlainRelayClient implements AutoCloseable {
  /** A channel's close code when the relay connection ended under it. */
  public static final String RELAY_LOST =
      ChannelReasons.wire(ChannelReason.CHANNEL_REASON_RELAY_LOST);

  private final ChannelLoop loop;
  private final RelayWebSocket socket;
  private final ChannelOpener opener;
  private volatile boolean closing;

  private PlainRelayClient(
      RelayWebSocket socket, String workspace, X25519KeyPair clientKey, byte[] psk) {
    this.loop = new ChannelLoop("umbra-relay");
    this.socket = socket;
    this.opener = new ChannelOpener(loop, workspace, clientKey, psk, this::send, Clock.systemUTC());
  }

  /**
   * Connects to {@code relay} with the member session {@code token} (audience {@code relay}) within
   * {@code timeout}; a refused token is a {@link RelayWebSocket.Refused} with status 401 or 403.
   */
  public static PlainRelayClient connect(
      URI relay,
      String token,
      String workspace,
      X25519KeyPair clientKey,
      byte[] psk,
      Duration timeout)
      throws IOException {
    return over(RelayWebSocket.connect(relay, token, timeout), workspace, clientKey, psk);
  }

  /**
   * A client over a WebSocket the caller connected (e.g. with {@link RelayWebSocket#connect(URI,
   * String, Duration, ClientTls)} to verify a {@code wss://} relay with its own trust).
   */
  public static PlainRelayClient over(
      RelayWebSocket ws, String workspace, X25519KeyPair clientKey, byte[] psk) {
    PlainRelayClient client = new PlainRelayClient(ws, workspace, clientKey, psk);
    Thread.ofPlatform().daemon().name("umbra-relay-reader").start(client::read);
    return client;
  }

  /** See {@link ChannelOpener#deviceProof}. */
  public void deviceProof(Function<String, Optional<HandshakePayload.DeviceProof>> forTarget) {
    opener.deviceProof(forTarget);
  }

  /** The thread the channels live on: their listeners are called there, and sends go through it. */
  public Executor executor() {
    return loop;
  }

  /** {@link ChannelOpener#open} on the loop. */
  public CompletableFuture<OpenedChannel> open(
      String target, X25519PublicKey daemonKey, ChannelStart start) {
    CompletableFuture<OpenedChannel> opened = new CompletableFuture<>();
    loop.execute(
        () ->
            opener
                .open(target, daemonKey, start)
                .whenComplete(
                    (c, e) -> {
                      if (e != null) {
                        opened.completeExceptionally(e);
                      } else {
                        opened.complete(c);
                      }
                    }));
    return opened;
  }

  private void read() {
    String lost;
    try {
      while (true) {
        byte[] message = socket.receive();
        if (message == null) {
          lost = "the relay closed the connection";
          break;
        }
        RelayFrame frame;
        try {
          frame = RelayFrame.parseFrom(message);
        } catch (InvalidProtocolBufferException e) {
          lost = "the relay sent an unreadable frame";
          break;
        }
        loop.execute(() -> opener.onFrame(frame));
      }
    } catch (IOException e) {
      lost = closing ? "this client closed it" : "the relay connection failed: " + e.getMessage();
    }
    socket.close();
    String why = lost;
    if (!closing) {
      loop.execute(() -> opener.failAll(ChannelReason.CHANNEL_REASON_RELAY_LOST, why));
    }
  }

  /** Sends on the loop; a failed write ends the connection (the reader then fails the channels). */
  private void send(RelayFrame f) {
    try {
      socket.send(f.toByteArray());
    } catch (IOException e) {
      socket.close();
    }
  }

  /** Live channels (tests). */
  public int channelCount() {
    try {
      return CompletableFuture.supplyAsync(opener::channelCount, loop).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Closes the channels (the machines are told), then the connection; waits at most a few seconds.
   */
  @Override
  public void close() {
    closing = true;
    try {
      CompletableFuture.runAsync(opener::closeAll, loop).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing on the way out
    }
    socket.close();
    loop.stop();
  }
}
