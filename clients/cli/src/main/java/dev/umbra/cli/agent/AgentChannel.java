package dev.umbra.cli.agent;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.OpenedChannel;
import dev.umbra.client.channel.PlainRelayClient;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.channel.AgentSessionOpen;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.Stream;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The client's end of an agent session channel (docs/agents.md, "Agent sessions"): every frame the
 * daemon sends is admitted ({@link AgentFrames#parse}, source daemon) and numbered session frames
 * must come in order ({@link AgentFrames.Sequence}: one already seen, e.g. the overlap of a
 * re-attach, is skipped); a frame that does not parse ends the channel. {@link #done()} completes
 * with the session's exit status when it ended while watched, or empty when the channel closed
 * without one (an answer was complete, or this client detached).
 */
public final class AgentChannel implements SecureChannel.Listener {
  private final Executor loop;
  private final Consumer<AgentFrame> frames;
  private final AgentFrames.Sequence sequence;
  private final CompletableFuture<OptionalInt> done = new CompletableFuture<>();
  private SecureChannel channel;
  private int skipped;

  private AgentChannel(Executor loop, Consumer<AgentFrame> frames, long seenUpTo) {
    this.loop = loop;
    this.frames = frames;
    this.sequence = new AgentFrames.Sequence(seenUpTo);
  }

  /**
   * Opens an agent session channel for {@code op} on {@code target}: {@code started} gets the
   * session id the daemon named (before any frame), {@code frames} each admitted frame, both on the
   * client's loop. {@code seenUpTo}: the last frame number already shown.
   */
  public static CompletableFuture<AgentChannel> open(
      PlainRelayClient client,
      String target,
      X25519PublicKey daemonKey,
      AgentSessionOpen op,
      long seenUpTo,
      Consumer<String> started,
      Consumer<AgentFrame> frames) {
    AgentChannel c = new AgentChannel(client.executor(), frames, seenUpTo);
    return client
        .open(target, daemonKey, ChannelStart.newBuilder().setAgent(op).build())
        .thenApply(
            (OpenedChannel opened) -> {
              c.channel = opened.channel();
              started.accept(opened.sessionId());
              opened.listen(c);
              return c;
            });
  }

  /** Session frames skipped as already seen. */
  public int skipped() {
    return skipped;
  }

  public CompletableFuture<OptionalInt> done() {
    return done;
  }

  /** Sends a prompt or an approval to the session. */
  public void send(AgentFrame f) {
    loop.execute(() -> channel.send(AgentFrames.message(f.bytes())));
  }

  /** Stops watching (the session runs on); {@link #done()} completes once the close was sent. */
  public void detach() {
    loop.execute(() -> channel.closeWhenDrained());
  }

  @Override
  public void onMessage(ChannelMessage m) {
    switch (m.getBodyCase()) {
      case DATA -> {
        if (m.getData().getStream() == Stream.STREAM_AGENT) {
          frame(m.getData().getBytes().toByteArray());
        }
      }
      case EXIT -> {
        done.complete(OptionalInt.of(m.getExit().getCode()));
        channel.close();
      }
      case ERROR ->
          done.completeExceptionally(
              new ChannelClosedException(m.getError().getCode(), m.getError().getMessage()));
      default -> {
        // nothing else comes on an agent session channel
      }
    }
  }

  private void frame(byte[] bytes) {
    AgentFrame f;
    try {
      f = AgentFrames.parse(bytes, AgentFrames.Source.DAEMON);
      if (f.type().session()) {
        sequence.admit(f);
      }
    } catch (AgentFrames.FrameException e) {
      if (e.refusal() == AgentFrames.Refusal.REPLAYED) {
        skipped++;
        return;
      }
      channel.fail(ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE);
      done.completeExceptionally(
          new ChannelClosedException(
              ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE,
              "the machine sent a frame that is not one: " + e.getMessage()));
      return;
    }
    frames.accept(f);
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    if (error != null) {
      done.completeExceptionally(error);
    } else {
      done.complete(OptionalInt.empty());
    }
  }
}
