package dev.umbra.client.channel;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.noise.TransportPair;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * One end of an established channel: Noise transport plus the reliability the relay does not give
 * (docs/relay.md). Every transport message is numbered by its Noise counter ({@code sequence}); the
 * receiver decrypts only the next expected number, ignores duplicates and gaps, and acknowledges
 * cumulatively. The sender keeps every unacknowledged ciphertext, resends them all in order on
 * RESUME, and stops taking new data beyond {@link ChannelProtocol#WINDOW_BYTES}. A message that
 * fails to decrypt or parse closes the channel: never skipped, never retried.
 *
 * <p>Runs on one thread (a Vert.x context or a {@link ChannelLoop}), whose timers it is given; not
 * thread-safe.
 */
public final class SecureChannel {
  /** Receives the channel's events on its context. */
  public interface Listener {
    void onMessage(ChannelMessage message);

    /** The window has room again after {@link #send} returned false. */
    default void onWritable() {}

    /** The channel is over: {@code error} is null for a normal close by the peer. */
    void onClosed(ChannelClosedException error);
  }

  private final ChannelTimers timers;
  private final String workspace;
  private final String target;
  private final long channelId;
  private final TransportPair noise;
  private final Consumer<RelayFrame> out;
  private Listener listener;
  private Consumer<ChannelClosedException> endHook = e -> {};
  private final ArrayDeque<RelayFrame> unacked = new ArrayDeque<>();
  private long unackedBytes;
  private long recvNext;
  private long ackSent;
  private long ackHeldAt = -1;
  private long bytesSinceAck;
  private long ackTimer = -1;
  private long lastProgressNanos = System.nanoTime();
  private long lastGapRequestNanos;
  private long gapTimer = -1;
  private long highestSeen = -1;
  private static final long GAP_INTERVAL_NANOS = 200_000_000L;
  private final long resendTimer;
  private boolean blocked;
  private boolean closeWhenDrained;
  private boolean closed;
  private long lastHeardNanos = System.nanoTime();
  private long lastSentNanos = System.nanoTime();
  private long silenceLimitNanos = Long.MAX_VALUE;

  public SecureChannel(
      ChannelTimers timers,
      String workspace,
      String target,
      long channelId,
      TransportPair noise,
      Consumer<RelayFrame> out) {
    this.timers = timers;
    this.workspace = workspace;
    this.target = target;
    this.channelId = channelId;
    this.noise = noise;
    this.out = out;
    long every = ChannelProtocol.RESEND_AFTER.toMillis() / 2;
    this.resendTimer = timers.setPeriodic(every, this::checkProgress);
  }

  public void listener(Listener l) {
    this.listener = l;
  }

  /** Runs when the channel ends, whoever its listener is (the owner forgets the channel). */
  public void onEnd(Consumer<ChannelClosedException> hook) {
    this.endHook = hook;
  }

  public long channelId() {
    return channelId;
  }

  public boolean closed() {
    return closed;
  }

  /**
   * Fails the channel ({@code peer_gone}) when nothing was heard from the peer for this long. Both
   * sides send a keepalive ACK every {@link ChannelProtocol#KEEPALIVE}, so only a peer that is
   * really gone (or unreachable) stays silent.
   */
  public void silenceLimit(java.time.Duration limit) {
    this.silenceLimitNanos = limit.toNanos();
  }

  /** Nanos of the last frame heard from the peer (the daemon forgets long-silent channels). */
  public long lastHeardNanos() {
    return lastHeardNanos;
  }

  private RelayFrame.Builder frame(FrameType type) {
    return RelayFrame.newBuilder()
        .setType(type)
        .setWorkspaceId(workspace)
        .setTargetId(target)
        .setChannelId(channelId);
  }

  private long ackValue() {
    return ackHeldAt >= 0 ? ackHeldAt : recvNext;
  }

  /**
   * Encrypts and sends one message; false when the window is now full (wait for {@link
   * Listener#onWritable()}).
   */
  public boolean send(ChannelMessage m) {
    if (closed) {
      return false;
    }
    long seq = noise.sentCount();
    byte[] ct = noise.encrypt(m.toByteArray());
    RelayFrame f =
        frame(FrameType.FRAME_TYPE_DATA)
            .setSequence(seq)
            .setAck(ackValue())
            .setPayload(UnsafeByteOperations.unsafeWrap(ct)) // ct is fresh and never written again
            .build();
    if (unacked.isEmpty()) {
      lastProgressNanos = System.nanoTime();
    }
    unacked.addLast(f);
    unackedBytes += ct.length;
    ackSent = ackValue();
    bytesSinceAck = 0;
    lastSentNanos = System.nanoTime();
    out.accept(f);
    if (!writable()) {
      blocked = true;
      return false;
    }
    return true;
  }

  public boolean writable() {
    return unackedBytes < ChannelProtocol.WINDOW_BYTES;
  }

  /** True when every message sent was acknowledged. */
  public boolean drained() {
    return unacked.isEmpty();
  }

  /**
   * While held, acknowledgements stop at what was received so far, so the peer's window fills and
   * it stops sending: how a slow consumer (a full socket, a busy process) pushes back end to end.
   */
  public void holdAcks(boolean hold) {
    if (hold && ackHeldAt < 0) {
      ackHeldAt = recvNext;
    } else if (!hold && ackHeldAt >= 0) {
      ackHeldAt = -1;
      sendAck();
    }
  }

  /** Handles one frame of this channel from the relay. */
  public void onFrame(RelayFrame f) {
    if (closed) {
      return;
    }
    lastHeardNanos = System.nanoTime();
    switch (f.getType()) {
      case FRAME_TYPE_DATA -> {
        acked(f.getAck());
        onData(f);
      }
      case FRAME_TYPE_ACK -> acked(f.getAck());
      case FRAME_TYPE_RESUME -> {
        acked(f.getAck());
        resend();
        if (!ChannelProtocol.RESUME_REPLY.equals(f.getReason())
            && !ChannelProtocol.RESUME_GAP.equals(f.getReason())) {
          out.accept(
              frame(FrameType.FRAME_TYPE_RESUME)
                  .setAck(ackValue())
                  .setSequence(noise.sentCount())
                  .setReason(ChannelProtocol.RESUME_REPLY)
                  .build());
        }
      }
      case FRAME_TYPE_CLOSE -> {
        String reason = f.getReason();
        finish(
            reason.isEmpty()
                    || reason.equals(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_DONE))
                ? null
                : new ChannelClosedException(reason, describe(reason)));
      }
      default -> {
        // ACCEPT / OPEN again: handled by the owner; ERROR: advisory
      }
    }
  }

  private static String describe(String reason) {
    RelayReason relay = RelayReasons.parse(reason).orElse(RelayReason.RELAY_REASON_UNSPECIFIED);
    switch (relay) {
      case RELAY_REASON_UNKNOWN_TARGET -> {
        return "the machine is not connected to the relay";
      }
      case RELAY_REASON_UNKNOWN_CHANNEL -> {
        return "the machine no longer has this session (it restarted or forgot it)";
      }
      case RELAY_REASON_RELAY_UNAVAILABLE -> {
        return "the relay could not route the channel (its bus is unavailable); try again";
      }
      default -> {
        // a channel-layer code of the peer's
      }
    }
    ChannelReason channel =
        ChannelReasons.parse(reason).orElse(ChannelReason.CHANNEL_REASON_UNSPECIFIED);
    return switch (channel) {
      case CHANNEL_REASON_DECRYPT_FAILED ->
          "a message failed authentication: the channel was tampered with and is closed";
      case CHANNEL_REASON_REPLAYED_HANDSHAKE -> "the machine refused a replayed handshake";
      case CHANNEL_REASON_HANDSHAKE_FAILED ->
          "the machine refused the handshake (wrong key or PSK)";
      case CHANNEL_REASON_PEER_GONE ->
          "nothing was heard from the other side for too long; the channel is closed";
      case CHANNEL_REASON_DEVICE_REVOKED ->
          "this device was revoked from the workspace; the machine closed the channel";
      case CHANNEL_REASON_DEVICE_NOT_TRUSTED,
          CHANNEL_REASON_NO_DEVICE_CREDENTIAL,
          CHANNEL_REASON_BAD_DEVICE_CREDENTIAL,
          CHANNEL_REASON_STATIC_KEY_NOT_BOUND ->
          "the machine does not admit this device ("
              + reason
              + "); run `umbra device trust` and retry";
      default -> "the channel was closed: " + reason;
    };
  }

  private void onData(RelayFrame f) {
    long seq = f.getSequence();
    highestSeen = Math.max(highestSeen, seq);
    if (seq < recvNext) {
      scheduleAck(); // a resend of what we have: tell the peer again
      return;
    }
    if (seq > recvNext) {
      requestGap();
      return;
    }
    byte[] plain;
    try {
      plain = noise.decrypt(f.getPayload().toByteArray());
    } catch (CryptoException e) {
      fail(ChannelReason.CHANNEL_REASON_DECRYPT_FAILED);
      return;
    }
    recvNext++;
    ChannelMessage m;
    try {
      m = ChannelMessage.parseFrom(plain);
    } catch (InvalidProtocolBufferException e) {
      fail(ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE);
      return;
    }
    if (recvNext <= highestSeen) {
      requestGap();
    }
    bytesSinceAck += f.getPayload().size();
    if (bytesSinceAck >= ChannelProtocol.ACK_EVERY_BYTES) {
      sendAck();
    } else {
      scheduleAck();
    }
    if (listener != null) {
      listener.onMessage(m);
    }
  }

  /**
   * Asks the peer to resend from what we expect; at most every 200 ms, the last request deferred,
   * not lost.
   */
  private void requestGap() {
    long now = System.nanoTime();
    long wait = lastGapRequestNanos + GAP_INTERVAL_NANOS - now;
    if (wait <= 0) {
      lastGapRequestNanos = now;
      out.accept(
          frame(FrameType.FRAME_TYPE_RESUME)
              .setAck(ackValue())
              .setSequence(noise.sentCount())
              .setReason(ChannelProtocol.RESUME_GAP)
              .build());
    } else if (gapTimer < 0) {
      gapTimer =
          timers.setTimer(
              Math.max(1, wait / 1_000_000),
              () -> {
                gapTimer = -1;
                if (!closed && recvNext <= highestSeen) {
                  requestGap(); // something later than what we expect was seen: a gap is still open
                }
              });
    }
  }

  private void acked(long ack) {
    boolean progress = false;
    while (!unacked.isEmpty() && unacked.peekFirst().getSequence() < ack) {
      unackedBytes -= unacked.removeFirst().getPayload().size();
      progress = true;
    }
    if (progress) {
      lastProgressNanos = System.nanoTime();
      if (closeWhenDrained && unacked.isEmpty()) {
        close();
        return;
      }
      if (blocked && writable()) {
        blocked = false;
        if (listener != null) {
          listener.onWritable();
        }
      }
    }
  }

  private void scheduleAck() {
    if (ackTimer < 0) {
      ackTimer =
          timers.setTimer(
              ChannelProtocol.ACK_DELAY.toMillis(),
              () -> {
                ackTimer = -1;
                sendAck();
              });
    }
  }

  private void sendAck() {
    if (closed) {
      return;
    }
    long a = ackValue();
    bytesSinceAck = 0;
    if (a != ackSent || a == recvNext) {
      ackSent = a;
      lastSentNanos = System.nanoTime();
      out.accept(frame(FrameType.FRAME_TYPE_ACK).setAck(a).build());
    }
  }

  private void resend() {
    for (RelayFrame f : unacked) {
      out.accept(f.toBuilder().setAck(ackValue()).build());
    }
    lastProgressNanos = System.nanoTime();
  }

  /**
   * After a reconnect: ask the peer to resend from what we expect and to tell us what it expects.
   */
  public void resume() {
    if (!closed) {
      out.accept(
          frame(FrameType.FRAME_TYPE_RESUME)
              .setAck(ackValue())
              .setSequence(noise.sentCount())
              .build());
    }
  }

  private void checkProgress() {
    long now = System.nanoTime();
    if (!closed && now - lastHeardNanos > silenceLimitNanos) {
      fail(ChannelReason.CHANNEL_REASON_PEER_GONE);
      return;
    }
    if (!closed && now - lastSentNanos > ChannelProtocol.KEEPALIVE.toNanos()) {
      lastSentNanos = now;
      out.accept(frame(FrameType.FRAME_TYPE_ACK).setAck(ackValue()).build());
    }
    if (!closed
        && !unacked.isEmpty()
        && System.nanoTime() - lastProgressNanos > ChannelProtocol.RESEND_AFTER.toNanos()) {
      lastProgressNanos = System.nanoTime();
      resume();
    }
  }

  /** Closes normally once everything sent was acknowledged (so nothing is lost to a reconnect). */
  public void closeWhenDrained() {
    if (unacked.isEmpty()) {
      close();
    } else {
      closeWhenDrained = true;
    }
  }

  /** Closes normally: tells the peer (best effort) and stops. */
  public void close() {
    if (!closed) {
      out.accept(
          frame(FrameType.FRAME_TYPE_CLOSE)
              .setReason(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_DONE))
              .build());
      finish(null);
    }
  }

  /** Closes because of a failure on this side; the peer is told the reason. */
  public void fail(ChannelReason reason) {
    String code = ChannelReasons.wire(reason);
    fail(reason, describe(code));
  }

  /**
   * As {@link #fail(ChannelReason)}, with the message this side's listener gets (why this side ends
   * it).
   */
  public void fail(ChannelReason reason, String message) {
    if (!closed) {
      String code = ChannelReasons.wire(reason);
      out.accept(frame(FrameType.FRAME_TYPE_CLOSE).setReason(code).build());
      finish(new ChannelClosedException(code, message));
    }
  }

  /** Ends locally without telling the peer (the link owner is shutting down). */
  public void abandon() {
    finish(
        new ChannelClosedException(
            ChannelReason.CHANNEL_REASON_ABANDONED, "the channel was abandoned"));
  }

  private void finish(ChannelClosedException error) {
    if (closed) {
      return;
    }
    closed = true;
    timers.cancelTimer(resendTimer);
    if (ackTimer >= 0) {
      timers.cancelTimer(ackTimer);
    }
    if (gapTimer >= 0) {
      timers.cancelTimer(gapTimer);
    }
    unacked.clear();
    endHook.accept(error);
    if (listener != null) {
      listener.onClosed(error);
    }
  }
}
