package dev.umbra.daemon.tty;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.WireOffer;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.tty.TtyFrames;
import dev.umbra.client.tty.TtyStats;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.daemon.tty.ServerSession.State;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's WebTTY server (docs/webtty.md): keeps one WebSocket to the engine, registers the
 * machine under its policy, and for each session sends a signed ServerHello, verifies the
 * ClientProof (signature, authorized key, this session's nonce, validity window of at most 60 s,
 * ids, suites, the grant for this machine's key) and only then starts the shell in a real PTY and
 * lets bytes flow, all of them AES-256-GCM end to end. Terminal bytes and keys are never logged.
 *
 * <p>Threads: frames are handled on the Vert.x context; the PTY is started, written and read on
 * platform threads (one writer and one reader per session): reads and writes are native calls that
 * may block, which would pin the few carriers of virtual threads. A keystroke the PTY takes without
 * waiting is written on the Vert.x context directly ({@link KeystrokeDelivery}).
 *
 * <p>This class keeps the engine connection, registration, the hello, the proof's acceptance (its
 * checks are {@link ProofCheck}) and each session's lifecycle; a session's parts live beside it:
 * {@link InputGate} (who may type, the input receiver rules), {@link InputKeyHandover} (control
 * changes, reviewers' grants), {@link OutputKeySharing} (share requests, output-key epochs), {@link
 * OutputPipeline} (PTY reader → sealer → engine socket).
 */
public final class TtyServer implements AutoCloseable {
  public static final String PATH = "/v1/webtty/server";
  private static final Logger log = LoggerFactory.getLogger(TtyServer.class);
  private final Vertx vertx;
  private final io.vertx.core.http.WebSocketClient wsClient;
  private final TtyServerConfig config;
  private final TtyStats stats = new TtyStats();
  private final SecureRandom random = new SecureRandom();
  private final Map<String, ServerSession> sessions = new ConcurrentHashMap<>();
  private volatile WebSocket ws;
  private volatile boolean stopped;
  private Promise<Void> registered;
  private long backoffMs = 100;

  /**
   * The policy registered (and re-registered when it changes), starting with the configured one.
   */
  private volatile dev.umbra.proto.webtty.ServerPolicy policy;

  /** The policy of the last REGISTER sent. */
  private volatile dev.umbra.proto.webtty.ServerPolicy sentPolicy;

  /** The policy the engine last confirmed in REGISTERED. */
  private volatile dev.umbra.proto.webtty.ServerPolicy confirmedPolicy;

  /** The server as its sessions' parts see it: frames to the engine, sessions ended. */
  private final SessionLink link =
      new SessionLink() {
        @Override
        public void send(WebTtyFrame frame) {
          TtyServer.this.send(frame);
        }

        @Override
        public void send(byte[] serializedFrame) {
          TtyServer.this.send(serializedFrame);
        }

        @Override
        public void end(ServerSession session, WebTtyReason reason) {
          TtyServer.this.end(session, reason, true);
        }

        @Override
        public void exited(ServerSession s, int status) {
          if (s.state == State.LIVE) {
            send(
                WebTtyFrame.newBuilder()
                    .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT)
                    .setSessionId(s.id)
                    .setExitStatus(status)
                    .build());
            s.state = State.ENDED;
            sessions.remove(s.id);
            s.writer.shutdown();
          }
        }
      };

  private final OutputPipeline output = new OutputPipeline(link, () -> ws);
  private final InputKeyHandover handover;
  private final OutputKeySharing sharing;
  private final ProofCheck proofCheck;
  private final EngineResume resume;

  public TtyServer(Vertx vertx, TtyServerConfig config, ClientTls tls) {
    this.vertx = vertx;
    this.config = config;
    this.policy = config.policy();
    this.handover = new InputKeyHandover(config, stats, link);
    this.sharing = new OutputKeySharing(config, stats, link, () -> policy);
    this.proofCheck = new ProofCheck(config);
    this.resume =
        new EngineResume(
            vertx, config, stats, link, sessions, s -> end(s, null, false), output::drained);
    // kept for the server's life (Vert.x closes unreachable clients); tls verifies a wss:// engine
    this.wsClient = vertx.createWebSocketClient(tls.apply(TtyFrames.engineSocketOptions()));
  }

  public TtyStats stats() {
    return stats;
  }

  /**
   * Connects and registers; completes once the engine confirmed. Reconnects on its own afterwards.
   */
  public synchronized Future<Void> start() {
    if (registered == null) {
      registered = Promise.promise();
      connect();
    }
    return registered.future();
  }

  private void connect() {
    if (stopped) {
      return;
    }
    config
        .tokens()
        .get()
        .compose(
            token -> {
              java.net.URI uri = config.engineUrl();
              boolean tls =
                  "https".equalsIgnoreCase(uri.getScheme())
                      || "wss".equalsIgnoreCase(uri.getScheme());
              int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
              WebSocketConnectOptions o =
                  WireOffer.offer(new WebSocketConnectOptions())
                      .setHost(uri.getHost())
                      .setPort(port)
                      .setSsl(tls)
                      .setURI(PATH)
                      .addHeader("Authorization", "Bearer " + token);
              return wsClient.connect(o);
            })
        .onSuccess(
            socket -> {
              ws = socket;
              stats.set("engine_connected", 1); // for the daemon's status file
              backoffMs = 100; // a dropped engine: the first retry at once (failover)
              // a few full frames in flight, not Netty's default 64 KiB: no stop-and-wait per frame
              socket.setWriteQueueMaxSize(4 * TtyFrames.MAX_FRAME_BYTES);
              socket.binaryMessageHandler(this::onMessage);
              socket.closeHandler(v -> onDisconnected());
              socket.exceptionHandler(e -> {});
              socket.drainHandler(v -> output.drained());
              sendRegister();
            })
        .onFailure(
            e -> {
              log.warn("WebTTY engine unreachable ({}); retrying", WireOffer.describe(e));
              retry();
            });
  }

  private void retry() {
    if (stopped) {
      return;
    }
    long delay = backoffMs;
    backoffMs = Math.min(30_000, backoffMs * 2);
    vertx.setTimer(delay, t -> connect());
  }

  private void onDisconnected() {
    ws = null;
    stats.set("engine_connected", 0);
    if (!stopped) {
      resume.disconnected(); // live shells wait for a new engine connection (engine failover)
    }
    retry();
  }

  private void send(WebTtyFrame f) {
    send(f.toByteArray());
  }

  private void send(byte[] serialized) {
    WebSocket socket = ws;
    if (socket != null) {
      // wrapped, not copied: Buffer.buffer(byte[]) would copy every (up to 64 KiB) frame once more
      socket.writeBinaryMessage(BufferInternal.buffer(Unpooled.wrappedBuffer(serialized)));
    }
  }

  private void onMessage(Buffer buf) {
    WebTtyFrame f;
    try {
      f = TtyFrames.parse(buf); // in place: the ciphertext is a view, not a copy
    } catch (InvalidProtocolBufferException e) {
      stats.count("malformed_frame");
      return;
    }
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_REGISTERED -> {
        confirmedPolicy = f.getPolicy();
        if (!registered.future().isComplete()) {
          log.info("WebTTY server {} registered", config.serverId());
        }
        registered.tryComplete();
        resume.registered();
        if (!policy.equals(sentPolicy)) {
          sendRegister(); // the policy changed while this registration was under way
        }
      }
      case WEBTTY_FRAME_TYPE_SESSION_START -> hello(f);
      case WEBTTY_FRAME_TYPE_CLIENT_PROOF -> proof(f);
      case WEBTTY_FRAME_TYPE_DATA -> stdin(f);
      case WEBTTY_FRAME_TYPE_RESIZE -> resize(f);
      case WEBTTY_FRAME_TYPE_CONTROL_CHANGED -> controlChanged(f);
      case WEBTTY_FRAME_TYPE_SHARE -> share(f);
      case WEBTTY_FRAME_TYPE_RESUMED -> resume.resumed(f);
      case WEBTTY_FRAME_TYPE_REFUSED -> resume.refused(f);
      case WEBTTY_FRAME_TYPE_CLOSE -> {
        ServerSession s = sessions.get(f.getSessionId());
        if (s != null) {
          end(s, null, false); // the engine ended it: nothing to tell it
        }
      }
      case WEBTTY_FRAME_TYPE_ERROR -> {
        log.warn("WebTTY engine refused the server: {}", f.getReason());
        registered.tryFail(new IllegalStateException("engine refused: " + f.getReason()));
      }
      default -> stats.count("unexpected_frame");
    }
  }

  private void hello(WebTtyFrame f) {
    byte[] nonce = new byte[Handshake.NONCE_BYTES];
    random.nextBytes(nonce);
    ServerSession s = new ServerSession(f.getSessionId(), nonce);
    sessions.put(s.id, s);
    Handshake.ServerHello hello =
        new Handshake.ServerHello(
            config.workspaceId().toString(),
            config.serverId(),
            s.id,
            config.signingKey().publicKey(),
            config.agreementKey().publicKey(),
            nonce,
            config.clock().millis());
    send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SERVER_HELLO)
            .setSessionId(s.id)
            .setServerHello(Handshake.sign(hello, config.signingKey()))
            .build());
  }

  /** Every check of the ClientProof; the first failure refuses the session (nothing flows). */
  private void proof(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || s.state != State.AWAIT_PROOF) {
      stats.count("proof_unexpected");
      if (s != null) {
        end(s, WebTtyReason.WEBTTY_REASON_PROOF_REFUSED, true);
      }
      return;
    }
    s.state = State.STARTING; // the nonce is spent: a second proof for it is refused
    ProofCheck.Outcome outcome = proofCheck.check(s, f);
    if (outcome.refusal() != null) {
      refuse(s, outcome.refusal());
      return;
    }
    Handshake.ClientProof p = outcome.accepted().proof();
    PayloadKey inputKey = outcome.accepted().inputKey();
    s.clientKey = p.signingKey();
    s.clientCredential = p.deviceCredential();
    s.context = p.keyContext();
    s.outputContext = p.keyContext();
    s.rememberKey(config.agreementKey().publicKey());
    s.rememberKey(p.agreementKey());
    sharing.rememberVouchedKeys(s, p.recipientDevices());
    s.outputKeyId = p.outputKeyId();
    s.output =
        new PayloadSender(
            new PayloadCipher(
                KeyRole.OUTPUT, outcome.accepted().outputKey(), p.outputKeyId(), p.keyContext()),
            ownKeyId());
    // epoch 0: the opener's own input key; only the opener may type until control changes
    s.input.grant(
        new PayloadCipher(KeyRole.INPUT, inputKey, p.inputKeyId(), p.keyContext()),
        KeyId.of(p.agreementKey()));
    startShell(s, p, inputKey);
  }

  /**
   * Starts the session's shell in a PTY on a platform thread (spawning may block), then READY and
   * the output; a session that ended meanwhile closes the shell again.
   */
  private void startShell(ServerSession s, Handshake.ClientProof p, PayloadKey inputKey) {
    Map<String, String> env = new HashMap<>(config.env());
    env.put("TERM", p.term().matches("[A-Za-z0-9._+-]{1,64}") ? p.term() : "xterm-256color");
    env.put("UMBRA_TTY_SESSION", s.id);
    int cols = p.cols();
    int rows = p.rows();
    Thread.ofPlatform()
        .daemon()
        .name("tty-start")
        .start(
            () -> {
              try {
                s.shell = PtyShell.start(config.shell(), env, config.directory(), cols, rows);
              } catch (Exception e) {
                log.warn("WebTTY session {}: the shell did not start: {}", s.id, e.getMessage());
                vertx.runOnContext(v -> end(s, WebTtyReason.WEBTTY_REASON_SPAWN_FAILED, true));
                return;
              }
              if (s.state != State.STARTING) {
                s.shell.close();
                return;
              }
              // sent before READY: the engine records it before the opener's stdin (export order)
              WebTtyFrame reviewersGrant = handover.openersInputKeyForReviewers(s, p, inputKey);
              if (reviewersGrant != null) {
                send(reviewersGrant);
                stats.count("reviewer_input_keys_issued");
              }
              s.state = State.LIVE;
              send(
                  WebTtyFrame.newBuilder()
                      .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_READY)
                      .setSessionId(s.id)
                      .build());
              output.start(s);
            });
  }

  private void refuse(ServerSession s, String reason) {
    stats.count("proof_refused");
    stats.count("proof_refused_" + reason);
    log.warn("WebTTY session {}: client proof refused ({})", s.id, reason);
    end(s, WebTtyReasons.proofRefused(reason), true);
  }

  private void stdin(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || s.state != State.LIVE) {
      // nothing is accepted before the proof is verified and the PTY runs
      stats.count("stdin_before_ready");
      if (s != null) {
        end(s, WebTtyReason.WEBTTY_REASON_NOT_READY, true);
      }
      return;
    }
    if (f.getStream() != TtyStream.TTY_STREAM_STDIN) {
      stats.count("stdin_rejected");
      end(s, WebTtyReason.WEBTTY_REASON_BAD_FRAME, true);
      return;
    }
    s.lastSequence = Math.max(s.lastSequence, f.getSequence());
    byte[] bytes = openInput(s, Stream.STDIN, f.getSealed());
    if (bytes == null) {
      return; // refused (and counted): its bytes never reach the PTY
    }
    KeystrokeDelivery.deliver(s, bytes, stats);
  }

  /**
   * The receiver rules for input ({@link InputGate#open}), on the Vert.x context in frame order.
   * Returns the plaintext, or null when the payload is refused: dropped and counted {@code
   * input_refused_<why>} (the session goes on), or the session ends ({@code bad_frame}, {@code
   * input_gap}).
   */
  private byte[] openInput(ServerSession s, Stream stream, dev.umbra.proto.webtty.Sealed sealed) {
    return switch (s.input.open(stream, sealed)) {
      case InputGate.Opened o -> o.plaintext();
      case InputGate.Refused r -> {
        refuseInput(s, r.why());
        yield null;
      }
      case InputGate.Malformed m -> {
        stats.count("stdin_rejected");
        end(s, WebTtyReason.WEBTTY_REASON_BAD_FRAME, true);
        yield null;
      }
      case InputGate.Gap g -> {
        stats.count("input_gap");
        log.warn(
            "WebTTY session {}: {} input frame(s) missing before counter {}; ending it",
            s.id,
            g.missing(),
            g.counter());
        end(s, WebTtyReason.WEBTTY_REASON_INPUT_GAP, true);
        yield null;
      }
    };
  }

  private void refuseInput(ServerSession s, InputRefusal why) {
    stats.count("input_refused");
    stats.count("input_refused_" + why.wire());
    // the engine decides how many frames arrive: one line per kind and session, the rest is counted
    if (s.loggedRefusals.add(why)) {
      log.warn(
          "WebTTY session {}: input refused ({}; further ones are only counted)", s.id, why.wire());
    }
  }

  /**
   * The controller's resize: applied only from its sealed size (under the input key, in counter
   * order).
   */
  private void resize(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || s.state != State.LIVE) {
      return;
    }
    if (!f.hasSealed()) {
      refuseInput(s, InputRefusal.UNSEALED_RESIZE);
      return;
    }
    byte[] plain = openInput(s, Stream.RESIZE, f.getSealed());
    if (plain == null) {
      return;
    }
    int[] size = TtyFrames.resizeFrom(plain);
    if (size == null) {
      stats.count("stdin_rejected");
      end(s, WebTtyReason.WEBTTY_REASON_BAD_FRAME, true);
      return;
    }
    s.writer.execute(() -> s.shell.resize(size[0], size[1]));
  }

  /**
   * The engine says who controls now: a new input key ({@link InputKeyHandover#controlChanged}).
   */
  private void controlChanged(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || s.state != State.LIVE) {
      stats.count("control_unexpected");
      return;
    }
    handover.controlChanged(s, f);
  }

  /** Recipients added to a live session: output-key epoch n+1 ({@link OutputKeySharing#share}). */
  private void share(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || s.state != State.LIVE) {
      stats.count("share_unexpected");
      return;
    }
    sharing.share(s, f);
  }

  /** From the policy: the reviewers' X25519 keys (empty: none). */
  public void updateReviewers(java.util.List<X25519PublicKey> keys) {
    handover.updateReviewers(keys);
  }

  private KeyId ownKeyId() {
    return KeyId.of(config.agreementKey().publicKey());
  }

  /**
   * Ends a session; {@code reason} (a CLOSE to the engine) is null when {@code tellEngine} is
   * false.
   */
  private void end(ServerSession s, WebTtyReason reason, boolean tellEngine) {
    if (s.state == State.ENDED) {
      return;
    }
    s.state = State.ENDED;
    sessions.remove(s.id);
    if (tellEngine) {
      send(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
              .setSessionId(s.id)
              .setReason(WebTtyReasons.wire(reason))
              .build());
    }
    PtyShell shell = s.shell;
    if (shell != null) {
      shell.close();
    }
    s.writer.shutdown();
  }

  /**
   * Checks the opener of every running session again against the current trust and ends those no
   * longer admitted ({@link ClientRecheck}). Returns how many it ended. Blocking; off the event
   * loop.
   */
  public int recheck() {
    return ClientRecheck.recheck(
        config, sessions.values(), stats, vertx, (s, reason) -> end(s, reason, true));
  }

  /** The policy this server registers under now. */
  public dev.umbra.proto.webtty.ServerPolicy policy() {
    return policy;
  }

  /** The policy the engine last confirmed (null before the first REGISTERED). */
  public dev.umbra.proto.webtty.ServerPolicy confirmedPolicy() {
    return confirmedPolicy;
  }

  /**
   * Registers under {@code next} from now on (docs/webtty.md, "Server policy"): when it differs, a
   * connected server sends REGISTER again on its connection (the engine applies it to sessions
   * opened afterwards; live sessions keep theirs); a disconnected one uses it when it reconnects.
   */
  public void updatePolicy(dev.umbra.proto.webtty.ServerPolicy next) {
    if (next.equals(policy)) {
      return;
    }
    policy = next;
    if (registered != null && registered.future().succeeded()) {
      vertx.runOnContext(v -> sendRegister());
    }
  }

  private void sendRegister() {
    dev.umbra.proto.webtty.ServerPolicy p = policy;
    sentPolicy = p;
    send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER)
            .setServerId(config.serverId())
            .setPolicy(p)
            .build());
  }

  /** Sessions currently known (any state). */
  public int sessionCount() {
    return sessions.size();
  }

  @Override
  public void close() {
    stopped = true;
    for (ServerSession s : sessions.values()) {
      end(s, WebTtyReason.WEBTTY_REASON_SERVER_STOPPING, true);
    }
    WebSocket socket = ws;
    if (socket != null) {
      socket.close();
    }
    wsClient.close();
  }
}
