package dev.umbra.daemon.agent;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.Stream;

/**
 * One client watching an agent session over its channel: session frames go out as {@code
 * STREAM_AGENT} data, prompts and approvals come in the same way; a {@code StreamEnd} (or the
 * channel's end) detaches it. Runs on the binding's context.
 */
final class Watcher implements SecureChannel.Listener {
  private final SecureChannel channel;
  private final AgentSession session;

  /** The highest frame number sent to this watcher: a frame is never sent twice. */
  long sentUpTo;

  /** Bytes sent since the channel's window last had room (queued beyond the window). */
  private long beyondWindow;

  Watcher(SecureChannel channel, AgentSession session, long sentUpTo) {
    this.channel = channel;
    this.session = session;
    this.sentUpTo = sentUpTo;
  }

  SecureChannel channel() {
    return channel;
  }

  /**
   * Sends {@code f} unless already sent (numbered frames). While the channel's window is full the
   * frame is still queued (a watcher catching up after an attach's replay), up to {@link
   * AgentSession#RING_BYTES} more; false when the watcher is further behind than that and must be
   * detached (it re-attaches with {@code from_seq}).
   */
  boolean send(AgentFrame f) {
    if (f.seq() > 0) {
      if (f.seq() <= sentUpTo) {
        return true;
      }
      sentUpTo = f.seq();
    }
    byte[] bytes = f.bytes();
    beyondWindow = channel.writable() ? 0 : beyondWindow + bytes.length;
    if (beyondWindow > AgentSession.RING_BYTES) {
      return false;
    }
    channel.send(AgentFrames.message(bytes));
    return true;
  }

  @Override
  public void onMessage(ChannelMessage m) {
    switch (m.getBodyCase()) {
      case DATA -> {
        if (m.getData().getStream() == Stream.STREAM_AGENT) {
          session.fromClient(this, m.getData().getBytes().toByteArray());
        }
      }
      case END -> {
        session.detach(this);
        channel.closeWhenDrained();
      }
      default -> {
        // nothing else is meaningful from a watcher
      }
    }
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    session.detach(this);
  }
}
