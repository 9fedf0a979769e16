package dev.umbra.client.channel;

import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A channel whose handshake finished and whose start the daemon accepted ({@link ChannelOpener}).
 * Until its user listens, messages and the close are kept and then delivered in order.
 */
public final class OpenedChannel implements SecureChannel.Listener {
  private final SecureChannel channel;
  private final List<ChannelMessage> early = new ArrayList<>();
  private final CompletableFuture<OpenedChannel> started;
  private ChannelClosedException earlyClose;
  private boolean earlyClosed;
  private String session = "";

  OpenedChannel(SecureChannel channel, CompletableFuture<OpenedChannel> started) {
    this.channel = channel;
    this.started = started;
  }

  public SecureChannel channel() {
    return channel;
  }

  /** The daemon's session id (command runs). */
  public String sessionId() {
    return session;
  }

  /** Hands the channel to its user; messages that came before are delivered first. */
  public void listen(SecureChannel.Listener listener) {
    channel.listener(listener);
    early.forEach(listener::onMessage);
    early.clear();
    if (earlyClosed) {
      listener.onClosed(earlyClose);
    }
  }

  @Override
  public void onMessage(ChannelMessage m) {
    if (!started.isDone()) {
      switch (m.getBodyCase()) {
        case STARTED -> {
          session = m.getStarted().getSessionId();
          started.complete(this);
        }
        case ERROR -> {
          started.completeExceptionally(
              new ChannelClosedException(m.getError().getCode(), m.getError().getMessage()));
          channel.close();
        }
        default -> {
          started.completeExceptionally(
              new ChannelClosedException(
                  ChannelReason.CHANNEL_REASON_PROTOCOL, "the machine answered out of order"));
          channel.fail(ChannelReason.CHANNEL_REASON_PROTOCOL);
        }
      }
      return;
    }
    early.add(m);
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    if (!started.completeExceptionally(
        error != null
            ? error
            : new ChannelClosedException(
                ChannelReason.CHANNEL_REASON_CLOSED,
                "the machine closed the channel before starting"))) {
      earlyClosed = true;
      earlyClose = error;
    }
  }
}
