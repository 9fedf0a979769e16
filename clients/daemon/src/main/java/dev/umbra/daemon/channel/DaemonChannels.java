package dev.umbra.daemon.channel;

import com.google.protobuf.ByteString;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.ClientAuth;
import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.client.channel.RelayLink;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.client.channel.SocketPipe;
import dev.umbra.client.channel.VertxTimers;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.noise.TransportPair;
import dev.umbra.daemon.audit.DaemonAudit;
import dev.umbra.proto.channel.ChannelError;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.channel.Started;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's side of relay channels for one workspace binding: keeps a {@link RelayLink} up,
 * registers the machine as a target, answers Noise IK (or IKpsk2) handshakes as responder, and runs
 * what each channel starts: a command ({@link CommandSession}), a TCP forward ({@link SocketPipe})
 * or a message service. Channels outlive relay connections: after a reconnect they resume where the
 * acknowledgements say.
 */
public final class DaemonChannels {
  private static final Logger log = LoggerFactory.getLogger(DaemonChannels.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * @param workspace workspace id of the binding
   * @param target the machine id (the relay target; the daemon's token names the same machine)
   * @param staticKey the binding's X25519 key (its public half is in the machine record clients
   *     pin)
   * @param psk the 32-byte Noise PSK when the workspace requires one ({@link ChannelProtocol#psk}),
   *     else null
   * @param relays relay WebSocket URLs ({@code ws(s)://host/v1/relay}), tried in turn
   * @param home UMBRA_HOME; transcripts go to {@code home/sessions}
   * @param forgetAfter a channel silent this long (client gone for good) is dropped
   */
  public record Config(
      String workspace,
      String target,
      X25519KeyPair staticKey,
      byte[] psk,
      List<URI> relays,
      Path home,
      Duration forgetAfter) {
    /**
     * The channels of machine {@code target} in {@code workspace} as the daemon opens them: no PSK
     * ({@link #withPsk}), a silent channel forgotten after {@link DaemonRelay#FORGET_AFTER}.
     */
    public static Config of(
        UUID workspace, String target, X25519KeyPair staticKey, List<URI> relays, Path home) {
      return new Config(
          workspace.toString(), target, staticKey, null, relays, home, DaemonRelay.FORGET_AFTER);
    }

    /** The same with the workspace's Noise PSK {@code psk} (null: none). */
    public Config withPsk(byte[] psk) {
      return new Config(workspace, target, staticKey, psk, relays, home, forgetAfter);
    }

    @Override
    public String toString() {
      return "DaemonChannels.Config[" + workspace + "/" + target + "]";
    }
  }

  private final Vertx vertx;
  private final Config config;
  private final Supplier<Future<String>> tokens;
  private final Map<String, MessageService> services = new HashMap<>();
  private final Map<Long, SecureChannel> channels = new HashMap<>();
  private final ChannelStats stats = new ChannelStats();
  private ReplayGate replays = new ReplayGate(ReplayCache.standard(), stats);
  private final byte[] prologue;
  private RelayLink link;
  private Context context;
  private NetClient net;
  private Promise<Void> registered = Promise.promise();
  private dev.umbra.daemon.agent.AgentSessions agents;
  private long sweepTimer = -1;
  private Supplier<Optional<DeviceTrust>> trust = Optional::empty;
  private ClientTls tls = ClientTls.system();

  /** What each open channel's client proved at its handshake, to check again when trust changes. */
  private final Map<Long, Admission> admissions = new HashMap<>();

  private Runnable trustHint = () -> {};
  private DaemonAudit.Sink audit = DaemonAudit.NONE;
  private dev.umbra.daemon.agent.AgentInbox agentInbox = dev.umbra.daemon.agent.AgentInbox.NONE;
  private Clock clock = Clock.systemUTC();

  /** A client's message-1 payload (its time, its device's proof) and Noise static key. */
  private record Admission(
      HandshakePayload payload, dev.umbra.crypto.keys.X25519PublicKey remoteStatic) {}

  public DaemonChannels(Vertx vertx, Config config, Supplier<Future<String>> tokens) {
    this.vertx = vertx;
    this.config = config;
    this.tokens = tokens;
    this.prologue = RelayPrologue.encode(config.workspace(), config.target());
    services.put("echo", MessageService.ECHO);
  }

  /**
   * How a {@code wss://} relay's certificate is verified (the daemon's {@code UMBRA_TLS_CA_FILE}
   * and {@code UMBRA_TLS_PIN}); default: the system's trust.
   */
  public DaemonChannels tls(ClientTls tls) {
    this.tls = tls;
    return this;
  }

  /**
   * The binding's pinned workspace trust, asked for each handshake (before {@link #start()}): while
   * it is present, only clients presenting a credential it verifies, bound to their Noise static
   * key, may open channels ({@link ClientAuth}). Default: none (any workspace member).
   */
  public DaemonChannels trust(Supplier<Optional<DeviceTrust>> trust) {
    this.trust = trust;
    return this;
  }

  /**
   * Where this binding's agent sessions raise inbox items (docs/agents.md, "Inbox items from a
   * runtime"); default: nowhere.
   */
  public DaemonChannels agentInbox(dev.umbra.daemon.agent.AgentInbox inbox) {
    this.agentInbox = inbox;
    return this;
  }

  /**
   * Where this binding's command runs and tunnels are reported (docs/audit.md); default: nowhere.
   */
  public DaemonChannels audit(DaemonAudit.Sink audit) {
    this.audit = audit;
    return this;
  }

  /**
   * The clock of handshake replay windows and session ids (before {@link #start()}); default: the
   * system's, in UTC.
   */
  public DaemonChannels clock(Clock clock) {
    this.clock = clock;
    return this;
  }

  /**
   * Called (on this binding's context) when the relay says the workspace's trust changed ({@code
   * FRAME_TYPE_TRUST_CHANGED}); the owner refreshes the pin and then calls {@link #recheck()}. The
   * relay's word alone changes nothing.
   */
  public DaemonChannels onTrustHint(Runnable hint) {
    this.trustHint = hint;
    return this;
  }

  /**
   * Checks every open channel's client again against the current pin and closes, with the refusal
   * as reason (e.g. {@code device_revoked}), those it no longer admits. Completes with how many
   * were closed.
   */
  public Future<Integer> recheck() {
    // the pin is read once, off the event loop, and applied to every channel
    return vertx
        .executeBlocking(this::recheckOfOpenChannels, false)
        .compose(
            r ->
                closeRefused(r.check())
                    .onSuccess(
                        n -> {
                          stats.rechecks.incrementAndGet();
                          stats.recheckedKeysetVersion.set(r.keysetVersion());
                        }));
  }

  private record Recheck(Function<Admission, String> check, long keysetVersion) {}

  /**
   * Reads the pin and returns the re-check of an admitted client against it: null while still
   * admitted, else the reason that ends its channel. Only reasons that mean "this device is no
   * longer admitted" end a channel: a pin that cannot be read now says nothing about the device, so
   * it keeps the channels (and refuses new ones) until a readable pin decides.
   */
  private Recheck recheckOfOpenChannels() {
    Optional<DeviceTrust> pinned;
    try {
      pinned = trust.get();
    } catch (RuntimeException e) {
      log.atWarn()
          .log(
              "re-check skipped: the pinned trust cannot be read ({}); open channels kept, new ones refused",
              e.getClass().getSimpleName());
      return new Recheck(a -> null, stats.recheckedKeysetVersion.get());
    }
    return new Recheck(
        a -> ClientAuth.recheck(pinned, a.payload().proof()),
        pinned.map(t -> (long) t.pin().keyset().version()).orElse(0L));
  }

  private Future<Integer> closeRefused(Function<Admission, String> check) {
    Promise<Integer> done = Promise.promise();
    context.runOnContext(
        v -> {
          int closed = 0;
          for (SecureChannel c : new ArrayList<>(channels.values())) {
            Admission a = admissions.get(c.channelId());
            String refused = a == null ? null : check.apply(a);
            if (refused != null) {
              log.atWarn()
                  .addKeyValue("channel", Long.toHexString(c.channelId()))
                  .log("channel closed, client no longer admitted: {}", refused);
              stats.revokedChannels.incrementAndGet();
              c.fail(
                  ChannelReasons.parse(refused)
                      .orElse(ChannelReason.CHANNEL_REASON_DEVICE_NOT_TRUSTED));
              closed++;
            }
          }
          done.complete(closed);
        });
    return done.future();
  }

  /** The replay memory's window and bounds (before {@link #start()}; tests). */
  DaemonChannels replayMemory(Duration window, int capacity, int perClient) {
    replays = new ReplayGate(new ReplayCache(window.toMillis(), capacity, perClient), stats);
    return this;
  }

  /** Adds a message service for a topic (before {@link #start()}). */
  public DaemonChannels service(String topic, MessageService service) {
    services.put(topic, service);
    return this;
  }

  public ChannelStats stats() {
    return stats;
  }

  public RelayLink link() {
    return link;
  }

  /** The binding this serves: its machine id (the relay's target name). */
  public String target() {
    return config.target();
  }

  /**
   * Connects and registers; completes once the relay confirmed the registration. Call on the
   * context to use.
   */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    // everything of this binding runs on one context: links, timers, sockets, sessions
    context.runOnContext(
        v -> {
          net =
              vertx.createNetClient(
                  new NetClientOptions().setConnectTimeout(10_000).setTcpNoDelay(true));
          link =
              new RelayLink(vertx, config.relays(), tokens, this::onFrame, x -> onConnected(), tls);
          link.start();
          long every = Math.max(1000, config.forgetAfter().toMillis() / 4);
          sweepTimer = vertx.setPeriodic(every, t -> sweep());
          agents =
              new dev.umbra.daemon.agent.AgentSessions(
                      context,
                      config.home(),
                      config.target(),
                      audit,
                      clock,
                      () -> sessionId(clock),
                      DaemonChannels::refuse)
                  .inbox(agentInbox);
        });
    return registered.future();
  }

  public Future<Void> stop() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> stopOnContext().onComplete(done));
    return done.future();
  }

  private Future<Void> stopOnContext() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    for (SecureChannel c : new ArrayList<>(channels.values())) {
      c.abandon();
    }
    channels.clear();
    admissions.clear();
    if (agents != null) {
      agents.stop();
    }
    return (link == null ? Future.<Void>succeededFuture() : link.stop())
        .eventually(() -> net == null ? Future.succeededFuture() : net.close());
  }

  private void onConnected() {
    link.send(
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_REGISTER)
            .setWorkspaceId(config.workspace())
            .setTargetId(config.target())
            .build());
  }

  private void onFrame(RelayFrame f) {
    switch (f.getType()) {
      case FRAME_TYPE_REGISTERED -> {
        if (registered.future().isComplete()) {
          log.info("re-registered with the relay; resuming {} channel(s)", channels.size());
          for (SecureChannel c : channels.values()) {
            stats.resumed.incrementAndGet();
            c.resume();
          }
        }
        registered.tryComplete();
      }
      case FRAME_TYPE_OPEN -> accept(f);
      case FRAME_TYPE_DATA, FRAME_TYPE_ACK, FRAME_TYPE_RESUME, FRAME_TYPE_CLOSE -> {
        SecureChannel c = channels.get(f.getChannelId());
        if (c != null) {
          c.onFrame(f);
        } else if (f.getType() != FrameType.FRAME_TYPE_CLOSE) {
          stats.unknownChannel.incrementAndGet();
          link.send(
              close(f.getChannelId(), RelayReasons.wire(RelayReason.RELAY_REASON_UNKNOWN_CHANNEL)));
        }
      }
      case FRAME_TYPE_ERROR ->
          log.atDebug().addKeyValue("reason", f.getReason()).log("relay refused a frame");
      case FRAME_TYPE_TRUST_CHANGED -> trustHint.run();
      default -> {
        // not for a daemon
      }
    }
  }

  private RelayFrame close(long channel, String reason) {
    return RelayFrame.newBuilder()
        .setType(FrameType.FRAME_TYPE_CLOSE)
        .setWorkspaceId(config.workspace())
        .setTargetId(config.target())
        .setChannelId(channel)
        .setReason(reason)
        .build();
  }

  private void accept(RelayFrame f) {
    long id = f.getChannelId();
    if (channels.containsKey(id)) {
      return; // a resent OPEN of a live channel: the client will resume
    }
    byte[] m1 = f.getPayload().toByteArray();
    TransportPair noise;
    byte[] m2;
    Admission admission;
    try {
      HandshakeState hs =
          HandshakeState.responder(
              ChannelProtocol.suite(config.psk()), config.staticKey(), prologue, config.psk());
      try { // before anything else: a replay the memory holds, a time outside the skew window
        admission =
            new Admission(
                replays.fresh(id, m1, hs.readMessage(m1), clock.millis()), hs.remoteStaticKey());
      } catch (HandshakePayload.RefusedException e) {
        link.send(close(id, ChannelReasons.wire(e.reason())));
        return;
      }
      String refused = admissionCheck().apply(admission);
      if (refused != null) {
        stats.failedHandshakes.incrementAndGet();
        log.atWarn()
            .addKeyValue("channel", Long.toHexString(id))
            .log("client refused: {}", refused);
      } else { // only an admitted client's handshake takes room, and nothing is forgotten for it
        refused =
            replays.remember(
                id, m1, admission.payload().proof(), admission.remoteStatic(), clock.millis());
      }
      if (refused != null) {
        link.send(close(id, refused));
        return;
      }
      m2 = hs.writeMessage(new byte[0]);
      noise = hs.split();
    } catch (RuntimeException e) {
      stats.failedHandshakes.incrementAndGet();
      log.atWarn()
          .addKeyValue("channel", Long.toHexString(id))
          .log("handshake refused: {}", e.getClass().getSimpleName());
      link.send(close(id, ChannelReasons.wire(ChannelReason.CHANNEL_REASON_HANDSHAKE_FAILED)));
      return;
    }
    link.send(
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_ACCEPT)
            .setWorkspaceId(config.workspace())
            .setTargetId(config.target())
            .setChannelId(id)
            .setPayload(ByteString.copyFrom(m2))
            .build());
    SecureChannel channel =
        new SecureChannel(
            new VertxTimers(vertx), config.workspace(), config.target(), id, noise, link::send);
    channels.put(id, channel);
    admissions.put(id, admission);
    channel.silenceLimit(config.forgetAfter());
    channel.onEnd(error -> closed(channel, error));
    stats.opened.incrementAndGet();
    channel.listener(
        new SecureChannel.Listener() {
          @Override
          public void onMessage(ChannelMessage m) {
            if (m.getBodyCase() != ChannelMessage.BodyCase.START) {
              channel.fail(ChannelReason.CHANNEL_REASON_PROTOCOL);
              return;
            }
            begin(channel, m.getStart(), admission.remoteStatic().toHex());
          }

          @Override
          public void onClosed(ChannelClosedException error) {
            // the end hook forgets the channel
          }
        });
  }

  /**
   * Reads the pin and returns the check of a client against it: null when admitted, else why not.
   */
  private Function<Admission, String> admissionCheck() {
    Optional<DeviceTrust> pinned;
    try {
      pinned = trust.get();
    } catch (RuntimeException e) {
      return a ->
          ChannelReasons.wire(
              ChannelReason
                  .CHANNEL_REASON_TRUST_UNREADABLE); // an unreadable or edited pin fails closed
    }
    return a ->
        ClientAuth.refusal(
            pinned, a.payload(), config.workspace(), config.target(), a.remoteStatic());
  }

  private void closed(SecureChannel channel, ChannelClosedException error) {
    channels.remove(channel.channelId());
    admissions.remove(channel.channelId());
    if (error != null
        && (error.code().equals(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_DECRYPT_FAILED))
            || error
                .code()
                .equals(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE)))) {
      stats.decryptFailures.incrementAndGet();
    }
  }

  /**
   * A started channel: a command run, a TCP forward, a message service or an agent session, by its
   * kind.
   */
  private void begin(SecureChannel channel, ChannelStart start, String clientKey) {
    switch (start.getKindCase()) {
      case RUN -> run(channel, start.getRun(), clientKey);
      case FORWARD -> TcpForwards.open(vertx, net, audit, channel, start.getForward());
      case MESSAGE -> message(channel, start.getMessage().getTopic());
      case AGENT -> agents.open(channel, start.getAgent(), clientKey);
      default -> refuse(channel, ChannelReason.CHANNEL_REASON_BAD_REQUEST, "unknown channel kind");
    }
  }

  private void run(SecureChannel channel, RunCommand run, String clientKey) {
    if (run.getArgvCount() == 0) {
      refuse(channel, ChannelReason.CHANNEL_REASON_BAD_REQUEST, "no command given");
      return;
    }
    String sid = sessionId(clock);
    log.atInfo()
        .addKeyValue("session", sid)
        .addKeyValue("channel", Long.toHexString(channel.channelId()))
        .log("command session started");
    new CommandSession(
            context, channel, run, config.home().resolve("sessions"), clientKey, sid, audit, clock)
        .start();
  }

  private void message(SecureChannel channel, String topic) {
    MessageService svc = services.get(topic);
    if (svc == null) {
      refuse(
          channel,
          ChannelReason.CHANNEL_REASON_UNKNOWN_TOPIC,
          "no message service '" + topic + "' on this machine");
      return;
    }
    channel.send(ChannelMessage.newBuilder().setStarted(Started.getDefaultInstance()).build());
    MessageChannel peer = new MessageChannel(channel);
    svc.open(peer);
  }

  /** Refuses a channel's start: a {@code ChannelError} with the reason, then the close. */
  public static void refuse(SecureChannel channel, ChannelReason reason, String message) {
    channel.send(
        ChannelMessage.newBuilder()
            .setError(
                ChannelError.newBuilder().setCode(ChannelReasons.wire(reason)).setMessage(message))
            .build());
    channel.closeWhenDrained();
  }

  /** The binding's agent sessions (a workflow's agent steps start theirs here); set at start. */
  public dev.umbra.daemon.agent.AgentSessions agentSessions() {
    return agents;
  }

  /** A new session id on this daemon's clock (names a transcript under sessions/). */
  public String sessionId() {
    return sessionId(clock);
  }

  /** A new session id: the time (UTC, seconds) and 48 random bits. */
  public static String sessionId(Clock clock) {
    byte[] r = new byte[6];
    RANDOM.nextBytes(r);
    return java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(java.time.ZoneOffset.UTC)
            .format(clock.instant())
        + "-"
        + HexFormat.of().formatHex(r);
  }

  private void sweep() {
    long now = System.nanoTime();
    long limit = config.forgetAfter().toNanos();
    for (SecureChannel c : new ArrayList<>(channels.values())) {
      if (c.closed()) {
        closed(c, null);
      } else if (now - c.lastHeardNanos() > limit) {
        c.fail(ChannelReason.CHANNEL_REASON_ABANDONED);
        channels.remove(c.channelId());
      }
    }
  }

  /** Live channels (tests). */
  public int channelCount() {
    return channels.size();
  }
}
