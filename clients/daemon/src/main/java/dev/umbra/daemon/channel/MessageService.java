package dev.umbra.daemon.channel;

/**
 * A daemon-side service behind the generic message channel ({@code ChannelStart.message.topic}):
 * later features (agent sessions, messaging) register one per topic. The built-in {@code echo}
 * topic answers each message with itself.
 */
@FunctionalInterface
public interface MessageService {
  /** A peer opened a channel on this topic; set its handlers. Runs on the channel's context. */
  void open(MessagePeer peer);

  /** One end of a message channel. */
  interface MessagePeer {
    /** Sends one message; false when the window is full. */
    boolean send(byte[] message);

    void onMessage(java.util.function.Consumer<byte[]> handler);

    void close();

    /** The relay channel's id (the audit's {@code channel}); 0 when not over a relay channel. */
    default long channelId() {
      return 0;
    }
  }

  MessageService ECHO = peer -> peer.onMessage(peer::send);
}
