package dev.umbra.client.channel;

import com.google.protobuf.UnsafeByteOperations;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import dev.umbra.proto.channel.StreamEnd;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetSocket;

/**
 * Joins a TCP socket and a channel, both ways, with flow control at each end: the socket is paused
 * while the channel window is full, and acknowledgements are held while the socket's write queue is
 * full (so the far writer stops). The end of either side ends the other; the channel closes once
 * what was sent is acknowledged. Used by the daemon (forward target) and the CLI (forwarded port).
 */
public final class SocketPipe implements SecureChannel.Listener {
  private final SecureChannel channel;
  private final NetSocket socket;
  private final Vertx vertx;
  private boolean socketEnded;
  private boolean peerEnded;
  private boolean paused;
  private boolean inputEnded;
  private boolean dataSinceCheck;

  /**
   * The last write to the socket: ending waits for it, or bytes still queued would be discarded.
   */
  private Future<Void> lastWrite = Future.succeededFuture();

  private final long startedNanos = System.nanoTime();
  private long bytesIn;
  private long bytesOut;
  private boolean reported;
  private Closed closed = (in, out, ms, reason) -> {};

  /**
   * Told once when the forward ends: bytes from the peer, bytes to it, how long, and the channel's
   * close code ("" when clean).
   */
  public interface Closed {
    void ended(long bytesIn, long bytesOut, long durationMs, String reason);
  }

  public SocketPipe(Vertx vertx, SecureChannel channel, NetSocket socket) {
    this.vertx = vertx;
    this.channel = channel;
    this.socket = socket;
  }

  /** Sets what to tell when the forward ends (the daemon audits {@code tunnel.closed} with it). */
  public SocketPipe onEnded(Closed closed) {
    this.closed = closed;
    return this;
  }

  /** Wires both directions; call on the channel's context. */
  public void start() {
    channel.listener(this);
    // room for a good part of the window, so acknowledgements are not held at every chunk
    socket.setWriteQueueMaxSize(ChannelProtocol.WINDOW_BYTES / 2);
    socket.handler(this::fromSocket);
    socket.endHandler(v -> inputEnded());
    socket.exceptionHandler(e -> socketDone());
    socket.drainHandler(v -> channel.holdAcks(false));
  }

  private void fromSocket(Buffer b) {
    dataSinceCheck = true;
    bytesOut += b.length();
    boolean room = true;
    for (int off = 0; off < b.length(); off += ChannelProtocol.CHUNK_BYTES) {
      int end = Math.min(b.length(), off + ChannelProtocol.CHUNK_BYTES);
      room =
          channel.send(
              ChannelMessage.newBuilder()
                  .setData(
                      StreamData.newBuilder()
                          .setStream(Stream.STREAM_TCP)
                          // a fresh copy of the socket's bytes, not copied once more
                          .setBytes(UnsafeByteOperations.unsafeWrap(b.getBytes(off, end))))
                  .build());
    }
    if (!room) {
      paused = true;
      socket.pause();
    }
  }

  /**
   * End of input from the socket. Vert.x may report it while bytes it buffered during a pause are
   * still to be delivered, so while paused the end waits until the socket was resumed and a tick
   * passed with no more data.
   */
  private void inputEnded() {
    inputEnded = true;
    if (!paused) {
      settleEnd();
    }
  }

  private void settleEnd() {
    dataSinceCheck = false;
    vertx.setTimer(
        2,
        t -> {
          if (paused) {
            return; // onWritable will settle again
          }
          if (dataSinceCheck) {
            settleEnd();
          } else {
            socketDone();
          }
        });
  }

  private void socketDone() {
    if (socketEnded) {
      return;
    }
    socketEnded = true;
    if (!channel.closed()) {
      channel.send(
          ChannelMessage.newBuilder()
              .setEnd(StreamEnd.newBuilder().setStream(Stream.STREAM_TCP))
              .build());
      channel.closeWhenDrained();
    }
  }

  @Override
  public void onWritable() {
    if (!socketEnded && paused) {
      paused = false;
      socket.resume();
      if (inputEnded) {
        settleEnd();
      }
    }
  }

  @Override
  public void onMessage(ChannelMessage m) {
    switch (m.getBodyCase()) {
      case DATA -> {
        bytesIn += m.getData().getBytes().size();
        // a view of the (immutable) bytes, copied once on their way to the socket
        lastWrite =
            socket.write(
                BufferInternal.buffer(
                    Unpooled.wrappedBuffer(m.getData().getBytes().asReadOnlyByteBuffer())));
        if (socket.writeQueueFull()) {
          channel.holdAcks(true);
        }
      }
      case END -> {
        peerEnded = true;
        endSocket();
      }
      case ERROR -> lastWrite.onComplete(x -> socket.close());
      default -> {
        // nothing else belongs to a forward
      }
    }
  }

  private void endSocket() {
    lastWrite.onComplete(x -> socket.end());
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    if (!reported) {
      reported = true;
      closed.ended(
          bytesIn,
          bytesOut,
          (System.nanoTime() - startedNanos) / 1_000_000,
          error == null ? "" : error.code());
    }
    if (error != null) {
      socket.close();
    } else {
      endSocket();
    }
  }
}
