package dev.umbra.client.channel;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The initiator's side of relay channels, whatever carries the frames (docs/relay.md): Noise IK /
 * IKpsk2 towards a daemon whose static key the caller pinned, the channel start, and the routing of
 * the relay's frames to pending opens and live channels. Used by the Vert.x {@code RelayClient}
 * (reconnecting, for long-lived commands) and the plain {@link PlainRelayClient} (one-shot
 * commands). Runs on one thread, whose timers it is given; every method is called there.
 */
public final class ChannelOpener {
  /**
   * A channel's close code when this client can no longer get a relay session ({@link #refuseAll}).
   */
  public static final String SESSION_REFUSED =
      ChannelReasons.wire(ChannelReason.CHANNEL_REASON_SESSION_REFUSED);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final ChannelTimers timers;
  private final String workspace;
  private final X25519KeyPair clientKey;
  private final byte[] psk;
  private final Consumer<RelayFrame> out;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Map<Long, SecureChannel> channels = new HashMap<>();
  private volatile Function<String, Optional<HandshakePayload.DeviceProof>> deviceProof =
      target -> Optional.empty();
  private final Clock clock;

  private record Pending(
      HandshakeState handshake,
      ChannelStart start,
      CompletableFuture<OpenedChannel> promise,
      long timer) {}

  /**
   * @param out sends a frame to the relay (dropped while disconnected: channels resend)
   * @param clientKey this client's static X25519 key (the daemon learns it; it is in the
   *     transcript)
   * @param psk the Noise PSK when the workspace requires one ({@link ChannelProtocol#psk}), else
   *     null
   * @param clock the time message 1 carries (the daemon refuses one too far from its own)
   */
  public ChannelOpener(
      ChannelTimers timers,
      String workspace,
      X25519KeyPair clientKey,
      byte[] psk,
      Consumer<RelayFrame> out,
      Clock clock) {
    this.timers = timers;
    this.clock = clock;
    this.workspace = workspace;
    this.clientKey = clientKey;
    this.psk = psk;
    this.out = out;
  }

  /**
   * What Noise message 1 carries for a channel to a target besides its time ({@link
   * HandshakePayload}): under Workspace Protection, this device's credential and the signature
   * binding its static key ({@link ClientAuth#proof}); nothing otherwise. Set before opening
   * channels.
   */
  public void deviceProof(Function<String, Optional<HandshakePayload.DeviceProof>> forTarget) {
    this.deviceProof = forTarget;
  }

  /**
   * Opens a channel to {@code target}, whose static key {@code daemonKey} the caller pinned, and
   * starts {@code start} on it. Fails with {@link ChannelClosedException} when the daemon refuses,
   * the handshake fails (a different key or PSK) or nobody answers in {@link
   * ChannelProtocol#OPEN_TIMEOUT}.
   */
  public CompletableFuture<OpenedChannel> open(
      String target, X25519PublicKey daemonKey, ChannelStart start) {
    CompletableFuture<OpenedChannel> promise = new CompletableFuture<>();
    long id = RANDOM.nextLong();
    while (id == 0 || pending.containsKey(id) || channels.containsKey(id)) {
      id = RANDOM.nextLong();
    }
    HandshakeState hs;
    byte[] m1;
    try {
      hs =
          HandshakeState.initiator(
              ChannelProtocol.suite(psk),
              clientKey,
              daemonKey,
              RelayPrologue.encode(workspace, target),
              psk);
      m1 = hs.writeMessage(HandshakePayload.at(clock.millis(), deviceProof.apply(target)).encode());
    } catch (RuntimeException e) {
      promise.completeExceptionally(e);
      return promise;
    }
    long channelId = id;
    long timer =
        timers.setTimer(
            ChannelProtocol.OPEN_TIMEOUT.toMillis(),
            () -> {
              Pending p = pending.remove(channelId);
              if (p != null) {
                p.promise.completeExceptionally(
                    new ChannelClosedException(
                        ChannelReason.CHANNEL_REASON_TIMEOUT,
                        "the machine did not answer within "
                            + ChannelProtocol.OPEN_TIMEOUT.toSeconds()
                            + " s"));
              }
            });
    pending.put(id, new Pending(hs, start, promise, timer));
    out.accept(
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_OPEN)
            .setWorkspaceId(workspace)
            .setTargetId(target)
            .setChannelId(id)
            .setPayload(ByteString.copyFrom(m1))
            .build());
    return promise;
  }

  /** After a reconnect: every live channel asks its peer to resume. */
  public void resumeAll() {
    for (SecureChannel c : channels.values()) {
      c.resume();
    }
  }

  /**
   * Ends everything because the relay connection is gone for good (a refused session, a lost
   * one-shot connection): pending opens fail and channels close with {@code reason} and {@code
   * message}.
   */
  public void failAll(ChannelReason reason, String message) {
    for (Pending p : new ArrayList<>(pending.values())) {
      timers.cancelTimer(p.timer);
      p.promise.completeExceptionally(new ChannelClosedException(reason, message));
    }
    pending.clear();
    for (SecureChannel c : new ArrayList<>(channels.values())) {
      c.fail(reason, message);
    }
  }

  /** Closes every live channel normally (the machines are told). */
  public void closeAll() {
    for (SecureChannel c : new ArrayList<>(channels.values())) {
      c.close();
    }
    channels.clear();
  }

  /** Handles one frame from the relay. */
  public void onFrame(RelayFrame f) {
    long id = f.getChannelId();
    Pending p = pending.get(id);
    if (p != null) {
      if (f.getType() == FrameType.FRAME_TYPE_ACCEPT) {
        pending.remove(id);
        timers.cancelTimer(p.timer);
        accepted(f, p);
      } else if (f.getType() == FrameType.FRAME_TYPE_CLOSE
          || f.getType() == FrameType.FRAME_TYPE_ERROR) {
        pending.remove(id);
        timers.cancelTimer(p.timer);
        p.promise.completeExceptionally(
            new ChannelClosedException(f.getReason(), refusal(f.getReason())));
      }
      return;
    }
    SecureChannel c = channels.get(id);
    if (c != null && f.getType() != FrameType.FRAME_TYPE_ERROR) {
      c.onFrame(f);
    }
  }

  private static String refusal(String reason) {
    String relay = relayRefusal(RelayReasons.parse(reason).orElse(null));
    return relay != null ? relay : channelRefusal(reason);
  }

  /** What a reason of the relay's own (relay.proto RelayReason) means to the opener; else null. */
  private static String relayRefusal(RelayReason reason) {
    if (reason == null) {
      return null;
    }
    return switch (reason) {
      case RELAY_REASON_UNKNOWN_TARGET ->
          "the machine is not connected to the relay (is its daemon running?)";
      case RELAY_REASON_WRONG_WORKSPACE -> "the relay refused the channel: wrong workspace";
      default -> null;
    };
  }

  /** What the daemon's channel-layer refusal codes mean. */
  private static String channelRefusal(String reason) {
    ChannelReason channel =
        ChannelReasons.parse(reason).orElse(ChannelReason.CHANNEL_REASON_UNSPECIFIED);
    return switch (channel) {
      case CHANNEL_REASON_HANDSHAKE_FAILED ->
          "the machine refused the handshake (a different key or PSK)";
      case CHANNEL_REASON_REPLAYED_HANDSHAKE -> "the machine refused the handshake as a replay";
      case CHANNEL_REASON_HANDSHAKE_STALE, CHANNEL_REASON_HANDSHAKE_FUTURE ->
          "the machine refused the handshake: its time is more than "
              + HandshakePayload.SKEW.toMinutes()
              + " minutes from the machine's (a replay, or a clock that is off: check both clocks)";
      case CHANNEL_REASON_HANDSHAKE_TIME_MISSING ->
          "the machine refused the handshake: it carries no time (this client is older than the"
              + " machine's daemon: update umbra)";
      case CHANNEL_REASON_NO_DEVICE_CREDENTIAL ->
          "the machine requires a trusted device (Workspace Protection): run `umbra device trust`";
      case CHANNEL_REASON_DEVICE_NOT_TRUSTED ->
          "the machine refused this device: the workspace key never signed its current credential";
      case CHANNEL_REASON_DEVICE_REVOKED -> "the machine refused this device: it was revoked";
      case CHANNEL_REASON_STATIC_KEY_NOT_BOUND ->
          "the machine refused the channel: the channel key is not bound to this device";
      default -> "the channel was refused: " + reason;
    };
  }

  private void accepted(RelayFrame f, Pending p) {
    SecureChannel channel;
    try {
      p.handshake.readMessage(f.getPayload().toByteArray());
      channel =
          new SecureChannel(
              timers, workspace, f.getTargetId(), f.getChannelId(), p.handshake.split(), out);
    } catch (RuntimeException e) {
      out.accept(
          RelayFrame.newBuilder()
              .setType(FrameType.FRAME_TYPE_CLOSE)
              .setWorkspaceId(workspace)
              .setTargetId(f.getTargetId())
              .setChannelId(f.getChannelId())
              .setReason(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_HANDSHAKE_FAILED))
              .build());
      p.promise.completeExceptionally(
          new ChannelClosedException(
              ChannelReason.CHANNEL_REASON_HANDSHAKE_FAILED,
              "the machine's handshake answer did not verify: refusing to talk to it"));
      return;
    }
    channels.put(channel.channelId(), channel);
    channel.silenceLimit(ChannelProtocol.CLIENT_SILENCE_LIMIT);
    channel.onEnd(e -> channels.remove(channel.channelId()));
    OpenedChannel opened = new OpenedChannel(channel, p.promise);
    channel.listener(opened);
    channel.send(ChannelMessage.newBuilder().setStart(p.start).build());
  }

  /** Live channels (tests). */
  public int channelCount() {
    return channels.size();
  }
}
