package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.noise.TransportPair;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The channel layer over a lossy, duplicating link: every message arrives once, in order, or the
 * channel fails.
 */
class SecureChannelTest {
  private Vertx vertx;
  private Context context;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static TransportPair[] handshake() {
    X25519KeyPair d = X25519KeyPair.generate();
    X25519KeyPair c = X25519KeyPair.generate();
    byte[] prologue = RelayPrologue.encode("w", "t");
    HandshakeState i =
        HandshakeState.initiator(ChannelProtocol.suite(null), c, d.publicKey(), prologue, null);
    HandshakeState r = HandshakeState.responder(ChannelProtocol.suite(null), d, prologue, null);
    r.readMessage(i.writeMessage(new byte[0]));
    i.readMessage(r.writeMessage(new byte[0]));
    return new TransportPair[] {i.split(), r.split()};
  }

  /**
   * A link that drops and duplicates DATA frames (never reorders, like the relay) until {@code
   * cut}.
   */
  private static final class Link {
    final Random random = new Random(42);
    volatile boolean cut;
    volatile double loss;
    SecureChannel to;

    Consumer<RelayFrame> into(Context ctx) {
      return f -> {
        if (cut || (f.getType() == FrameType.FRAME_TYPE_DATA && random.nextDouble() < loss)) {
          return;
        }
        ctx.runOnContext(v -> to.onFrame(f));
        if (f.getType() == FrameType.FRAME_TYPE_DATA && random.nextDouble() < loss) {
          ctx.runOnContext(v -> to.onFrame(f)); // a duplicate
        }
      };
    }
  }

  private static ChannelMessage msg(int i) {
    return ChannelMessage.newBuilder()
        .setData(
            StreamData.newBuilder()
                .setStream(Stream.STREAM_MESSAGE)
                .setBytes(ByteString.copyFromUtf8("m" + i)))
        .build();
  }

  @Test
  void deliversEveryMessageOnceInOrderOverALossyLink() throws Exception {
    TransportPair[] noise = handshake();
    Link ab = new Link();
    Link ba = new Link();
    ab.loss = 0.05;
    ba.loss = 0.05;
    List<String> got = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> all = new CompletableFuture<>();
    int n = 200;
    context.runOnContext(
        v -> {
          SecureChannel a =
              new SecureChannel(new VertxTimers(vertx), "w", "t", 1, noise[0], ab.into(context));
          SecureChannel b =
              new SecureChannel(new VertxTimers(vertx), "w", "t", 1, noise[1], ba.into(context));
          ab.to = b;
          ba.to = a;
          b.listener(
              new SecureChannel.Listener() {
                @Override
                public void onMessage(ChannelMessage m) {
                  got.add(m.getData().getBytes().toStringUtf8());
                  if (got.size() == n) {
                    all.complete(null);
                  }
                }

                @Override
                public void onClosed(ChannelClosedException error) {
                  all.completeExceptionally(
                      error == null ? new IllegalStateException("closed") : error);
                }
              });
          a.listener(
              new SecureChannel.Listener() {
                @Override
                public void onMessage(ChannelMessage m) {}

                @Override
                public void onClosed(ChannelClosedException error) {}
              });
          for (int i = 0; i < n; i++) {
            a.send(msg(i));
          }
        });
    all.get(30, TimeUnit.SECONDS);
    for (int i = 0; i < n; i++) {
      assertThat(got.get(i)).isEqualTo("m" + i);
    }
    assertThat(got).hasSize(n);
  }

  @Test
  void failsWithPeerGoneWhenNothingIsHeardForTheSilenceLimit() throws Exception {
    TransportPair[] noise = handshake();
    Link ab = new Link();
    ab.cut = true;
    CompletableFuture<ChannelClosedException> closed = new CompletableFuture<>();
    context.runOnContext(
        v -> {
          SecureChannel a =
              new SecureChannel(new VertxTimers(vertx), "w", "t", 1, noise[0], ab.into(context));
          a.silenceLimit(Duration.ofMillis(800));
          a.listener(
              new SecureChannel.Listener() {
                @Override
                public void onMessage(ChannelMessage m) {}

                @Override
                public void onClosed(ChannelClosedException error) {
                  closed.complete(error);
                }
              });
        });
    assertThat(closed.get(10, TimeUnit.SECONDS).code()).isEqualTo("peer_gone");
  }
}
