package dev.umbra.daemon.channel;

import com.google.protobuf.ByteString;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import java.util.function.Consumer;

/**
 * A {@link MessageService.MessagePeer} over a channel: each message is one {@code StreamData} on
 * STREAM_MESSAGE.
 */
public final class MessageChannel implements MessageService.MessagePeer, SecureChannel.Listener {
  private final SecureChannel channel;
  private Consumer<byte[]> handler = m -> {};
  private Consumer<ChannelClosedException> closed = e -> {};

  public MessageChannel(SecureChannel channel) {
    this.channel = channel;
    channel.listener(this);
  }

  @Override
  public boolean send(byte[] message) {
    return channel.send(
        ChannelMessage.newBuilder()
            .setData(
                StreamData.newBuilder()
                    .setStream(Stream.STREAM_MESSAGE)
                    .setBytes(ByteString.copyFrom(message)))
            .build());
  }

  @Override
  public void onMessage(Consumer<byte[]> h) {
    this.handler = h;
  }

  public void onClose(Consumer<ChannelClosedException> h) {
    this.closed = h;
  }

  @Override
  public long channelId() {
    return channel.channelId();
  }

  @Override
  public void close() {
    channel.closeWhenDrained();
  }

  @Override
  public void onMessage(ChannelMessage m) {
    if (m.getBodyCase() == ChannelMessage.BodyCase.DATA
        && m.getData().getStream() == Stream.STREAM_MESSAGE) {
      handler.accept(m.getData().getBytes().toByteArray());
    }
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    closed.accept(error);
  }
}
