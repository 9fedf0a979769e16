package dev.umbra.cli.relay;

import com.google.protobuf.ByteString;
import dev.umbra.cli.CliException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.RelayLink;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.URI;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The client side of relay channels: one {@link RelayLink} (reconnecting, resuming every live
 * channel after a reconnect) and Noise IK / IKpsk2 as initiator towards daemons whose static key
 * the caller pinned. Everything runs on the context captured at creation.
 */
public final class RelayClient {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx;
  private final Context context;
  private final String workspace;
  private final X25519KeyPair clientKey;
  private final byte[] psk;
  private final RelayLink link;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final Map<Long, SecureChannel> channels = new HashMap<>();
  private volatile Throwable refused;

  /** A channel whose handshake finished and whose start the daemon accepted. */
  public static final class Opened implements SecureChannel.Listener {
    private final SecureChannel channel;
    private final List<ChannelMessage> early = new ArrayList<>();
    private final Promise<Opened> started;
    private ChannelClosedException earlyClose;
    private boolean earlyClosed;
    private String session = "";

    private Opened(SecureChannel channel, Promise<Opened> started) {
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
      if (!started.future().isComplete()) {
        switch (m.getBodyCase()) {
          case STARTED -> {
            session = m.getStarted().getSessionId();
            started.complete(this);
          }
          case ERROR -> {
            started.fail(new ChannelClosedException(m.getError().getCode(), m.getError().getMessage()));
            channel.close();
          }
          default -> {
            started.fail(new ChannelClosedException("protocol", "the machine answered out of order"));
            channel.fail("protocol");
          }
        }
        return;
      }
      early.add(m);
    }

    @Override
    public void onClosed(ChannelClosedException error) {
      if (!started.tryFail(error != null ? error : new ChannelClosedException("closed", "the machine closed the channel before starting"))) {
        earlyClosed = true;
        earlyClose = error;
      }
    }
  }

  private volatile java.util.function.Function<String, byte[]> handshakePayload = target -> new byte[0];

  private record Pending(HandshakeState handshake, ChannelStart start, Promise<Opened> promise, long timer) {}

  /**
   * Creates a client on a new context (call from any thread).
   *
   * @param relays relay WebSocket URLs ({@code ws(s)://host/v1/relay}), tried in turn on reconnect
   * @param tokens fresh member session tokens for audience {@code relay}
   * @param clientKey this client's static X25519 key (the daemon learns it; it is in the transcript)
   * @param psk the Noise PSK when the workspace requires one ({@link ChannelProtocol#psk}), else null
   */
  public static Future<RelayClient> create(
      Vertx vertx, List<URI> relays, String workspace, Supplier<Future<String>> tokens, X25519KeyPair clientKey, byte[] psk) {
    Context ctx = vertx.getOrCreateContext();
    Promise<RelayClient> made = Promise.promise();
    // created on its context so the link's, timers' and sockets' callbacks all run there
    ctx.runOnContext(v -> {
      try {
        made.complete(new RelayClient(vertx, ctx, relays, workspace, tokens, clientKey, psk));
      } catch (RuntimeException e) {
        made.fail(e);
      }
    });
    return made.future();
  }

  private RelayClient(
      Vertx vertx, Context context, List<URI> relays, String workspace, Supplier<Future<String>> tokens, X25519KeyPair clientKey, byte[] psk) {
    this.vertx = vertx;
    this.context = context;
    this.workspace = workspace;
    this.clientKey = clientKey;
    this.psk = psk;
    this.link = new RelayLink(vertx, relays, () -> tokens.get().onFailure(this::refusedFor), this::onFrame, v -> onConnected());
  }

  /** A channel's close code when this client can no longer get a relay session (see {@link #refusedFor}). */
  public static final String SESSION_REFUSED = "session_refused";

  /**
   * A session the CLI refused to ask for or was refused for good ({@link CliException}: this device
   * was revoked, is not approved, ...) ends the client: pending opens fail, channels close with
   * {@link #SESSION_REFUSED} and that reason, and the link stops, where it would otherwise
   * reconnect forever (the relay closes a revoked device's connection itself). Other failures,
   * e.g. a control plane that does not answer, are retried by the link.
   */
  private void refusedFor(Throwable e) {
    if (!(e instanceof CliException)) {
      return;
    }
    context.runOnContext(v -> {
      if (refused != null) {
        return;
      }
      refused = e;
      for (Pending p : new ArrayList<>(pending.values())) {
        vertx.cancelTimer(p.timer);
        p.promise.tryFail(new ChannelClosedException(SESSION_REFUSED, e.getMessage()));
      }
      pending.clear();
      for (SecureChannel c : new ArrayList<>(channels.values())) {
        c.fail(SESSION_REFUSED, e.getMessage());
      }
      link.stop();
    });
  }

  /**
   * What goes into Noise message 1 for a channel to a target: under Workspace Protection, this
   * device's credential and the signature binding its static key ({@link
   * dev.umbra.client.channel.ClientAuth#payload}); empty otherwise. Set before opening channels.
   */
  public RelayClient handshakePayload(java.util.function.Function<String, byte[]> forTarget) {
    this.handshakePayload = forTarget;
    return this;
  }

  public Context context() {
    return context;
  }

  public RelayLink link() {
    return link;
  }

  /** Connects (the future completes on the first connection, or fails with why a session was refused). */
  public Future<Void> connect() {
    return link.start().recover(e -> Future.failedFuture(refused != null ? refused : e));
  }

  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      for (SecureChannel c : new ArrayList<>(channels.values())) {
        c.close();
      }
      channels.clear();
      link.stop().onComplete(done);
    });
    return done.future();
  }

  /**
   * Opens a channel to {@code target}, whose static key {@code daemonKey} the caller pinned, and
   * starts {@code start} on it. Fails with {@link ChannelClosedException} when the daemon refuses,
   * the handshake fails (a different key or PSK) or nobody answers.
   */
  public Future<Opened> open(String target, X25519PublicKey daemonKey, ChannelStart start) {
    Promise<Opened> promise = Promise.promise();
    context.runOnContext(v -> {
      long id = RANDOM.nextLong();
      while (id == 0 || pending.containsKey(id) || channels.containsKey(id)) {
        id = RANDOM.nextLong();
      }
      HandshakeState hs;
      byte[] m1;
      try {
        hs = HandshakeState.initiator(ChannelProtocol.suite(psk), clientKey, daemonKey, RelayPrologue.encode(workspace, target), psk);
        m1 = hs.writeMessage(handshakePayload.apply(target));
      } catch (RuntimeException e) {
        promise.fail(e);
        return;
      }
      long channelId = id;
      long timer = vertx.setTimer(ChannelProtocol.OPEN_TIMEOUT.toMillis(), t -> {
        Pending p = pending.remove(channelId);
        if (p != null) {
          p.promise.tryFail(new ChannelClosedException("timeout", "the machine did not answer within " + ChannelProtocol.OPEN_TIMEOUT.toSeconds() + " s"));
        }
      });
      pending.put(id, new Pending(hs, start, promise, timer));
      link.send(RelayFrame.newBuilder()
          .setType(FrameType.FRAME_TYPE_OPEN)
          .setWorkspaceId(workspace)
          .setTargetId(target)
          .setChannelId(id)
          .setPayload(ByteString.copyFrom(m1))
          .build());
    });
    return promise.future();
  }

  private void onConnected() {
    for (SecureChannel c : channels.values()) {
      c.resume();
    }
  }

  private void onFrame(RelayFrame f) {
    long id = f.getChannelId();
    Pending p = pending.get(id);
    if (p != null) {
      if (f.getType() == FrameType.FRAME_TYPE_ACCEPT) {
        pending.remove(id);
        vertx.cancelTimer(p.timer);
        accepted(f, p);
      } else if (f.getType() == FrameType.FRAME_TYPE_CLOSE || f.getType() == FrameType.FRAME_TYPE_ERROR) {
        pending.remove(id);
        vertx.cancelTimer(p.timer);
        p.promise.tryFail(new ChannelClosedException(f.getReason(), refusal(f.getReason())));
      }
      return;
    }
    SecureChannel c = channels.get(id);
    if (c != null && f.getType() != FrameType.FRAME_TYPE_ERROR) {
      c.onFrame(f);
    }
  }

  private static String refusal(String reason) {
    return switch (reason) {
      case "unknown_target" -> "the machine is not connected to the relay (is its daemon running?)";
      case "handshake_failed" -> "the machine refused the handshake (a different key or PSK)";
      case "replayed_handshake" -> "the machine refused the handshake as a replay";
      case "wrong_workspace" -> "the relay refused the channel: wrong workspace";
      case "no_device_credential" -> "the machine requires a trusted device (Workspace Protection): run `umbra device trust`";
      case "device_not_trusted" -> "the machine refused this device: the workspace key never signed its current credential";
      case "device_revoked" -> "the machine refused this device: it was revoked";
      case "static_key_not_bound" -> "the machine refused the channel: the channel key is not bound to this device";
      default -> "the channel was refused: " + reason;
    };
  }

  private void accepted(RelayFrame f, Pending p) {
    SecureChannel channel;
    try {
      p.handshake.readMessage(f.getPayload().toByteArray());
      channel = new SecureChannel(vertx, workspace, f.getTargetId(), f.getChannelId(), p.handshake.split(), link::send);
    } catch (RuntimeException e) {
      link.send(RelayFrame.newBuilder().setType(FrameType.FRAME_TYPE_CLOSE).setWorkspaceId(workspace)
          .setTargetId(f.getTargetId()).setChannelId(f.getChannelId()).setReason("handshake_failed").build());
      p.promise.tryFail(new ChannelClosedException("handshake_failed", "the machine's handshake answer did not verify: refusing to talk to it"));
      return;
    }
    channels.put(channel.channelId(), channel);
    channel.silenceLimit(ChannelProtocol.CLIENT_SILENCE_LIMIT);
    channel.onEnd(e -> channels.remove(channel.channelId()));
    Opened opened = new Opened(channel, p.promise);
    channel.listener(opened);
    channel.send(ChannelMessage.newBuilder().setStart(p.start).build());
  }

  /** Live channels (tests). */
  public int channelCount() {
    return channels.size();
  }
}
