package dev.umbra.daemon.tty;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.tty.TtyFrames;
import dev.umbra.client.tty.TtyStats;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.Wire;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * platform threads (one writer and one reader per session): reads and writes are native calls
 * that may block, which would pin the few carriers of virtual threads. A keystroke the PTY takes
 * without waiting is written on the Vert.x context directly (see {@code deliver}).
 */
public final class TtyServer implements AutoCloseable {
  public static final String PATH = "/v1/webtty/server";
  private static final Logger log = LoggerFactory.getLogger(TtyServer.class);
  private static final int READ_CHUNK = TtyFrames.MAX_PLAINTEXT;

  private final Vertx vertx;
  private final io.vertx.core.http.WebSocketClient wsClient;
  private final TtyServerConfig config;
  private final TtyStats stats = new TtyStats();
  private final SecureRandom random = new SecureRandom();
  private final Map<String, ServerSession> sessions = new ConcurrentHashMap<>();
  private volatile WebSocket ws;
  /** PTY readers wait on this while the engine socket's write queue is full; drain wakes them. */
  private final Object drained = new Object();
  private volatile boolean stopped;
  private Promise<Void> registered;
  private long backoffMs = 500;
  /** The policy registered (and re-registered when it changes), starting with the configured one. */
  private volatile dev.umbra.proto.webtty.ServerPolicy policy;
  /** The policy of the last REGISTER sent. */
  private volatile dev.umbra.proto.webtty.ServerPolicy sentPolicy;
  /** The policy the engine last confirmed in REGISTERED. */
  private volatile dev.umbra.proto.webtty.ServerPolicy confirmedPolicy;

  private enum State { AWAIT_PROOF, STARTING, LIVE, ENDED }

  private final class ServerSession {
    final String id;
    /** Input refusals already logged for this session (on the Vert.x context): one line per kind. */
    final java.util.Set<InputRefusal> loggedRefusals = java.util.EnumSet.noneOf(InputRefusal.class);
    final byte[] nonce;
    volatile State state = State.AWAIT_PROOF;
    /** Output (stdout) sealed as this daemon, counter from 0 (read by the PTY reader thread). */
    volatile PayloadSender output;
    /** The opener's signed key context (epoch 0): input keys and their payloads stay bound to it. */
    KeyContext context;
    /** The current output key's context and id, epoch (0 = the opener's), replaced by each share. */
    KeyContext outputContext;
    volatile PayloadKeyId outputKeyId;
    long outputEpoch;
    /** not_before_ms of the last accepted share request: a later one must be newer (no replay). */
    long lastShareNotBefore = Long.MIN_VALUE;
    /**
     * Held while sealing and queueing an output frame, and while switching the output key and
     * queueing its OUTPUT_KEY frame: nothing sealed under the old key follows the switch.
     */
    final Object outputLock = new Object();
    /**
     * The current input key and who may use it (the controller's key id); null while nobody has
     * control. Only the Vert.x context reads and writes these, and the counters below.
     */
    PayloadCipher input;
    KeyId controllerKeyId;
    long inputEpoch;
    final java.util.Set<PayloadKeyId> retiredInputKeys = new java.util.HashSet<>();
    final PayloadCounters inputCounters = PayloadCounters.fromZero();
    volatile PtyShell shell;
    /** Who opened it: the proof's signing key and device credential, checked again when trust changes. */
    volatile Ed25519PublicKey clientKey;
    volatile Signed clientCredential;
    /** Keystrokes wait for the shell's first output (at most 1 s): input typed ahead while the
     * terminal is still being set up could otherwise be discarded by the PTY. */
    final java.util.concurrent.CompletableFuture<Void> firstOutput = new java.util.concurrent.CompletableFuture<>();
    final ExecutorService writer = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("tty-writer").factory());
    /** Keystroke writes handed to {@link #writer} and not finished: while any are, new ones queue behind them. */
    final java.util.concurrent.atomic.AtomicInteger queuedWrites = new java.util.concurrent.atomic.AtomicInteger();

    ServerSession(String id, byte[] nonce) {
      this.id = id;
      this.nonce = nonce;
    }
  }

  public TtyServer(Vertx vertx, TtyServerConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.policy = config.policy();
    // kept for the server's life: Vert.x closes clients that become unreachable
    this.wsClient = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(TtyFrames.MAX_FRAME_BYTES * 2).setMaxMessageSize(TtyFrames.MAX_FRAME_BYTES * 2)
        // never offer compression: the engine does not inflate, and neither do we (docs/security.md)
        .setTryUsePerMessageCompression(false).setTryUsePerFrameCompression(false));
  }

  public TtyStats stats() {
    return stats;
  }

  /** Connects and registers; completes once the engine confirmed. Reconnects on its own afterwards. */
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
    config.tokens().get()
        .compose(token -> {
          java.net.URI uri = config.engineUrl();
          boolean tls = "https".equalsIgnoreCase(uri.getScheme()) || "wss".equalsIgnoreCase(uri.getScheme());
          int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
          WebSocketConnectOptions o = new WebSocketConnectOptions().setHost(uri.getHost()).setPort(port).setSsl(tls)
              .setURI(PATH).addHeader("Authorization", "Bearer " + token);
          return wsClient.connect(o);
        })
        .onSuccess(socket -> {
          ws = socket;
          backoffMs = 500;
          socket.binaryMessageHandler(this::onMessage);
          socket.closeHandler(v -> onDisconnected());
          socket.exceptionHandler(e -> { });
          socket.drainHandler(v -> {
            synchronized (drained) {
              drained.notifyAll();
            }
          });
          sendRegister();
        })
        .onFailure(e -> {
          log.warn("WebTTY engine unreachable ({}); retrying", e.getMessage());
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
    for (ServerSession s : sessions.values()) {
      end(s, null, false);
    }
    retry();
  }

  private void send(WebTtyFrame f) {
    WebSocket socket = ws;
    if (socket != null) {
      // wrapped, not copied: Buffer.buffer(byte[]) would copy every (up to 64 KiB) frame once more
      socket.writeBinaryMessage(BufferInternal.buffer(Unpooled.wrappedBuffer(f.toByteArray())));
    }
  }

  private void onMessage(Buffer buf) {
    WebTtyFrame f;
    try {
      f = Wire.parseAliased(WebTtyFrame.parser(), buf.getBytes()); // the ciphertext is not copied again
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
    Handshake.ServerHello hello = new Handshake.ServerHello(config.workspaceId().toString(), config.serverId(), s.id,
        config.signingKey().publicKey(), config.agreementKey().publicKey(), nonce, config.clock().millis());
    send(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SERVER_HELLO).setSessionId(s.id)
        .setServerHello(Handshake.sign(hello, config.signingKey())).build());
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
    Handshake.ClientProof p;
    PayloadKey outputKey;
    PayloadKey inputKey;
    try {
      p = Handshake.verifyProof(f.getClientProof());
      String problem = problem(s, p, f);
      if (problem != null) {
        refuse(s, problem);
        return;
      }
      s.clientKey = p.signingKey();
      s.clientCredential = p.deviceCredential();
      outputKey = KeyGrants.unwrap(p.grantFor(config.agreementKey().publicKey(), KeyRole.OUTPUT), p.keyContext(),
          config.agreementKey());
      inputKey = KeyGrants.unwrap(p.grantFor(config.agreementKey().publicKey(), KeyRole.INPUT), p.keyContext(),
          config.agreementKey());
    } catch (CryptoException | IllegalArgumentException e) {
      refuse(s, e instanceof dev.umbra.crypto.UnsupportedSuiteException ? "unknown_suite"
          : e instanceof dev.umbra.crypto.AuthenticationFailedException ? "bad_signature" : "malformed");
      return;
    }
    s.context = p.keyContext();
    s.outputContext = p.keyContext();
    s.outputKeyId = p.outputKeyId();
    s.output = new PayloadSender(new PayloadCipher(KeyRole.OUTPUT, outputKey, p.outputKeyId(), p.keyContext()), ownKeyId());
    // epoch 0: the opener's own input key; only the opener may type until control changes
    s.input = new PayloadCipher(KeyRole.INPUT, inputKey, p.inputKeyId(), p.keyContext());
    s.controllerKeyId = KeyId.of(p.agreementKey());
    Map<String, String> env = new HashMap<>(config.env());
    env.put("TERM", p.term().matches("[A-Za-z0-9._+-]{1,64}") ? p.term() : "xterm-256color");
    env.put("UMBRA_TTY_SESSION", s.id);
    int cols = p.cols();
    int rows = p.rows();
    Thread.ofPlatform().daemon().name("tty-start").start(() -> {
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
      s.state = State.LIVE;
      send(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_READY).setSessionId(s.id).build());
      pump(s);
    });
  }

  private String problem(ServerSession s, Handshake.ClientProof p, WebTtyFrame f) {
    long now = config.clock().millis();
    KeyContext kc = p.keyContext();
    if (!p.workspaceId().equals(config.workspaceId().toString()) || !p.serverId().equals(config.serverId())
        || !p.sessionId().equals(s.id) || !kc.workspaceId().equals(p.workspaceId())
        || !kc.serverId().equals(p.serverId()) || !kc.sessionId().equals(p.sessionId())) {
      return "wrong_context";
    }
    if (!Arrays.equals(p.serverNonce(), s.nonce)) {
      return "wrong_nonce";
    }
    long window = p.notAfterMs() - p.notBeforeMs();
    if (window <= 0 || window > Handshake.MAX_PROOF_WINDOW.toMillis()) {
      return "window_too_long";
    }
    if (now + Handshake.CLOCK_SKEW.toMillis() < p.notBeforeMs() || now > p.notAfterMs()) {
      return "expired";
    }
    String refusal = config.authorizer().refusal(config.workspaceId(), p.signingKey(), p.deviceCredential());
    if (refusal != null) {
      return refusal;
    }
    if (!kc.hasRecipient(ownKeyId()) || p.grantFor(config.agreementKey().publicKey(), KeyRole.OUTPUT) == null
        || p.grantFor(config.agreementKey().publicKey(), KeyRole.INPUT) == null) {
      return "no_grant";
    }
    // the opener's input key is for the daemon and the opener only: a viewer must never hold a
    // key it could type (or read typed passwords) with
    java.util.Set<KeyId> inputHolders = new java.util.HashSet<>(p.inputRecipients());
    if (!inputHolders.equals(new java.util.HashSet<>(java.util.List.of(ownKeyId(), KeyId.of(p.agreementKey()))))
        || inputHolders.size() != p.inputRecipients().size()) {
      return "input_key_shared";
    }
    // under Workspace Protection every output-key recipient besides this server and the opener
    // must be a trusted device under this daemon's pin, vouched for in the proof: the control
    // plane (which lists devices and members to the opener) cannot add a recipient of its own
    java.util.Optional<java.util.Set<KeyId>> vouched = config.authorizer().vouchedRecipients(config.workspaceId(),
        p.recipientDevices());
    if (vouched.isPresent()) {
      KeyId opener = KeyId.of(p.agreementKey());
      for (KeyId r : kc.recipients()) {
        if (!r.equals(ownKeyId()) && !r.equals(opener) && !vouched.get().contains(r)) {
          return "unvouched_recipient";
        }
      }
    }
    if (!f.getKeyContext().equals(ByteString.copyFrom(kc.toCanonicalJson()))) {
      return "wrong_context";
    }
    return null;
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
    byte[] bytes = openInput(s, Stream.STDIN, f.getSealed());
    if (bytes == null) {
      return; // refused (and counted): its bytes never reach the PTY
    }
    deliver(s, bytes);
  }

  /**
   * Hands opened keystrokes to the PTY, in order. On the event loop itself when the writer thread
   * has nothing queued and the shell has spoken: a write that never blocks ({@link PtyShell#writeNow})
   * takes a keystroke straight to the terminal, saving a thread wake-up per keystroke (a round trip
   * on a loaded 2-vCPU machine pays several milliseconds at p99 for each hop). What the PTY does not
   * take at once, and anything while earlier writes are still queued, goes to the writer thread,
   * which may wait.
   */
  private void deliver(ServerSession s, byte[] bytes) {
    int written = 0;
    if (s.queuedWrites.get() == 0 && s.firstOutput.isDone()) {
      try {
        written = s.shell.writeNow(bytes, 0, bytes.length);
      } catch (Exception e) {
        stats.count("pty_write_failed");
        return;
      }
      if (written == bytes.length) {
        stats.count("stdin_frames");
        return;
      }
    }
    byte[] rest = written == 0 ? bytes : Arrays.copyOfRange(bytes, written, bytes.length);
    s.queuedWrites.incrementAndGet();
    s.writer.execute(() -> {
      try {
        try {
          s.firstOutput.get(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
          // a silent shell: type anyway
        }
        s.shell.write(rest);
        stats.count("stdin_frames");
      } catch (Exception e) {
        stats.count("pty_write_failed");
      } finally {
        s.queuedWrites.decrementAndGet();
      }
    });
  }

  /**
   * The receiver rules for input (docs/webtty.md "Receiver rules"), on the Vert.x context in
   * frame order. Returns the plaintext, or null when the payload is refused:
   * <ul>
   *   <li>not under the current input key (the previous controller's retired key, the output key
   *       every recipient holds, an unknown key) or not from the current controller: dropped,
   *       counted {@code input_refused_<why>}; the session goes on;</li>
   *   <li>malformed, v1, or a bad tag: the session ends ({@code bad_frame});</li>
   *   <li>a counter already seen or older (a replay, a step back): dropped, counted
   *       {@code input_refused_replayed}; the session goes on;</li>
   *   <li>a counter ahead of the expected one (keystrokes were dropped or reordered): the session
   *       ends ({@code input_gap}), since running what follows lost keystrokes changes its meaning.</li>
   * </ul>
   */
  private byte[] openInput(ServerSession s, Stream stream, dev.umbra.proto.webtty.Sealed sealed) {
    SealedPayload p;
    try {
      p = TtyFrames.fromProto(stream, sealed);
    } catch (CryptoException | IllegalArgumentException e) {
      stats.count("stdin_rejected");
      end(s, WebTtyReason.WEBTTY_REASON_BAD_FRAME, true);
      return null;
    }
    if (s.input == null || !p.payloadKeyId().equals(s.input.keyId())) {
      refuseInput(s, s.retiredInputKeys.contains(p.payloadKeyId()) ? InputRefusal.RETIRED_KEY
          : s.input == null ? InputRefusal.NO_CONTROLLER : InputRefusal.WRONG_KEY);
      return null;
    }
    if (!p.senderKeyId().equals(s.controllerKeyId)) {
      refuseInput(s, InputRefusal.WRONG_SENDER);
      return null;
    }
    byte[] plain;
    try {
      plain = s.input.open(p);
    } catch (CryptoException | IllegalArgumentException e) {
      // bad tag (also a replay relabelled with another counter), truncated: drop, close, count
      stats.count("stdin_rejected");
      end(s, WebTtyReason.WEBTTY_REASON_BAD_FRAME, true);
      return null;
    }
    PayloadCounters.Verdict v = s.inputCounters.observe(p);
    switch (v.kind()) {
      case REPEAT -> {
        refuseInput(s, InputRefusal.REPLAYED);
        return null;
      }
      case GAP -> {
        stats.count("input_gap");
        log.warn("WebTTY session {}: {} input frame(s) missing before counter {}; ending it", s.id, v.missing(),
            v.counter());
        end(s, WebTtyReason.WEBTTY_REASON_INPUT_GAP, true);
        return null;
      }
      default -> {
        return plain;
      }
    }
  }

  /** Why a stdin/resize frame was dropped before the PTY (counted {@code input_refused_<wire>}; the session goes on). */
  enum InputRefusal {
    REPLAYED, WRONG_KEY, RETIRED_KEY, WRONG_SENDER, NO_CONTROLLER, UNSEALED_RESIZE;

    String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private void refuseInput(ServerSession s, InputRefusal why) {
    stats.count("input_refused");
    stats.count("input_refused_" + why.wire());
    // the engine decides how many frames arrive: one line per kind and session, the rest is counted
    if (s.loggedRefusals.add(why)) {
      log.warn("WebTTY session {}: input refused ({}; further ones are only counted)", s.id, why.wire());
    }
  }

  /** The controller's resize: applied only from its sealed size (under the input key, in counter order). */
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
   * The engine says who controls now. Whatever follows, the previous input key is retired (its
   * stdin is refused from now on). If someone controls, and the opener's signed key context
   * names their X25519 key, the daemon makes a fresh input key, wraps it for them and for itself
   * (and for {@link #inputKeyReviewers}), signs the grant with the binding key and sends it as
   * INPUT_KEY; the new controller verifies it against its pin before typing with it. A key the
   * opener did not grant gets nothing: nobody types until the next change.
   */
  private void controlChanged(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || s.state != State.LIVE) {
      stats.count("control_unexpected");
      return;
    }
    if (s.input != null) {
      s.retiredInputKeys.add(s.input.keyId());
    }
    s.input = null;
    s.controllerKeyId = null;
    if (f.getPublicKey().isEmpty()) {
      stats.count("control_released");
      return;
    }
    X25519PublicKey key;
    try {
      key = X25519PublicKey.fromBytes(f.getPublicKey().toByteArray());
    } catch (CryptoException e) {
      stats.count("control_refused_malformed");
      return;
    }
    KeyId id = KeyId.of(key);
    // any recipient of the current output key may be given control (a share may have added it)
    if (!s.outputContext.hasRecipient(id) || id.equals(ownKeyId())
        || (!f.getKeyId().isEmpty() && !Arrays.equals(f.getKeyId().toByteArray(), id.toBytes()))) {
      stats.count("control_refused_not_recipient");
      log.warn("WebTTY session {}: control given to a key the opener did not grant; nobody may type", s.id);
      return;
    }
    if (s.retiredInputKeys.size() >= PayloadCounters.MAX_STREAMS / 2) {
      end(s, WebTtyReason.WEBTTY_REASON_TOO_MANY_HANDOVERS, true);
      return;
    }
    PayloadKey inputKey = PayloadKey.generate();
    PayloadKeyId inputKeyId = PayloadKeyId.generate();
    java.util.List<X25519PublicKey> holders = new java.util.ArrayList<>(java.util.List.of(key, config.agreementKey().publicKey()));
    holders.addAll(inputKeyReviewers(s));
    InputKeyGrant grant = new InputKeyGrant(config.workspaceId().toString(), config.serverId(), s.id, ++s.inputEpoch, id,
        inputKeyId, s.outputKeyId, KeyGrants.wrapForAll(KeyRole.INPUT, inputKey, inputKeyId, s.context, holders),
        config.clock().millis());
    InputKeyGrant.Signed signed = grant.sign(config.signingKey());
    s.input = new PayloadCipher(KeyRole.INPUT, inputKey, inputKeyId, s.context);
    s.controllerKeyId = id;
    WebTtyFrame.Builder out = WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_INPUT_KEY)
        .setSessionId(s.id).setParticipantId(f.getParticipantId())
        .setInputKeyGrant(dev.umbra.proto.webtty.SignedMessage.newBuilder()
            .setCanonicalJson(ByteString.copyFrom(signed.canonicalJson()))
            .setSignature(ByteString.copyFrom(signed.signature())));
    for (KeyGrant g : grant.grants()) {
      out.addGrants(TtyFrames.toProto(g));
    }
    send(out.build());
    stats.count("input_keys_issued");
  }

  /**
   * The opener adds recipients to its live session (docs/webtty.md "Adding a recipient to a live
   * session"): the request must be signed by the key that signed the opener's proof, be for this
   * session, fresh and newer than the last one, keep every current recipient and add at least
   * one, the policy must let someone join, and under Workspace Protection each added key must be
   * a device vouched for under this daemon's pin. Then output-key epoch n+1: a fresh output key
   * under a key context with every recipient, granted to each, in a document signed with the
   * binding key; output after it is sealed under the new key from counter 0.
   */
  private void share(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || s.state != State.LIVE) {
      stats.count("share_unexpected");
      return;
    }
    Handshake.ShareRequest r;
    try {
      r = Handshake.verifyShare(f.getShareRequest(), s.clientKey);
    } catch (dev.umbra.crypto.AuthenticationFailedException e) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_OPENER);
      return;
    } catch (CryptoException | IllegalArgumentException e) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_INVALID);
      return;
    }
    long now = config.clock().millis();
    long window = r.notAfterMs() - r.notBeforeMs();
    if (!r.workspaceId().equals(config.workspaceId().toString()) || !r.serverId().equals(config.serverId())
        || !r.sessionId().equals(s.id) || window <= 0 || window > Handshake.MAX_PROOF_WINDOW.toMillis()
        || now + Handshake.CLOCK_SKEW.toMillis() < r.notBeforeMs() || now > r.notAfterMs()) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_INVALID);
      return;
    }
    if (r.notBeforeMs() <= s.lastShareNotBefore) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_REPLAYED);
      return;
    }
    if (policy.getJoin() == dev.umbra.proto.webtty.JoinPolicy.JOIN_POLICY_NOBODY
        || policy.getJoin() == dev.umbra.proto.webtty.JoinPolicy.JOIN_POLICY_UNSPECIFIED) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_POLICY);
      return;
    }
    java.util.List<X25519PublicKey> holders = new java.util.ArrayList<>(java.util.List.of(config.agreementKey().publicKey()));
    java.util.List<KeyId> ids = new java.util.ArrayList<>(java.util.List.of(ownKeyId()));
    for (X25519PublicKey k : r.recipientKeys()) {
      if (!KeyId.of(k).equals(ownKeyId())) {
        holders.add(k);
        ids.add(KeyId.of(k));
      }
    }
    java.util.Set<KeyId> added = new java.util.HashSet<>(ids);
    added.removeAll(s.outputContext.recipients());
    if (!ids.containsAll(s.outputContext.recipients()) || added.isEmpty()) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_INVALID);
      return;
    }
    if (ids.size() > dev.umbra.crypto.webtty.OutputKeyEpoch.MAX_GRANTS
        || s.outputEpoch >= dev.umbra.crypto.webtty.OutputKeyEpoch.MAX_EPOCH) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_LIMIT);
      return;
    }
    java.util.Optional<java.util.Set<KeyId>> vouched = config.authorizer().vouchedRecipients(config.workspaceId(),
        r.recipientDevices());
    if (vouched.isPresent() && !vouched.get().containsAll(added)) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_UNVOUCHED_RECIPIENT);
      return;
    }
    s.lastShareNotBefore = r.notBeforeMs();
    KeyContext next = new KeyContext(config.workspaceId().toString(), config.serverId(), s.id, ids);
    PayloadKey key = PayloadKey.generate();
    PayloadKeyId keyId = PayloadKeyId.generate();
    dev.umbra.crypto.webtty.OutputKeyEpoch epoch = new dev.umbra.crypto.webtty.OutputKeyEpoch(
        config.workspaceId().toString(), config.serverId(), s.id, s.outputEpoch + 1, keyId, s.outputKeyId, next,
        KeyGrants.wrapForAll(KeyRole.OUTPUT, key, keyId, next, holders), now);
    dev.umbra.crypto.webtty.OutputKeyEpoch.Signed signed = epoch.sign(config.signingKey());
    WebTtyFrame.Builder out = WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY)
        .setSessionId(s.id).setKeyContext(ByteString.copyFrom(next.toCanonicalJson()))
        .setOutputKeyEpoch(dev.umbra.proto.webtty.SignedMessage.newBuilder()
            .setCanonicalJson(ByteString.copyFrom(signed.canonicalJson()))
            .setSignature(ByteString.copyFrom(signed.signature())));
    for (KeyGrant g : epoch.grants()) {
      out.addGrants(TtyFrames.toProto(g));
    }
    WebTtyFrame frame = out.build();
    s.outputEpoch = epoch.epoch();
    s.outputContext = next;
    PayloadSender sender = new PayloadSender(new PayloadCipher(KeyRole.OUTPUT, key, keyId, next), ownKeyId());
    // switched and queued off the event loop, under the lock the PTY reader seals under: a write
    // from this (event-loop) thread would go out at once, ahead of output frames the reader has
    // queued under the old key; from another thread it queues behind them, in lock order
    Thread.ofPlatform().daemon().name("tty-share").start(() -> {
      synchronized (s.outputLock) {
        s.output = sender;
        s.outputKeyId = keyId;
        send(frame);
      }
    });
    stats.count("output_keys_issued");
    log.info("WebTTY session {}: output-key epoch {} ({} recipient(s) added)", s.id, epoch.epoch(), added.size());
  }

  private void refuseShare(ServerSession s, WebTtyFrame f, WebTtyReason reason) {
    String wire = WebTtyReasons.wire(reason);
    stats.count(wire);
    log.warn("WebTTY session {}: share refused ({})", s.id, wire);
    send(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).setSessionId(s.id)
        .setParticipantId(f.getParticipantId()).setReason(wire).build());
  }

  /**
   * Hook for the server policy's reviewers (issue 14, finding 5, not implemented here): X25519
   * keys that must be able to read stdin in recordings get every fresh input key too. They must
   * be recipients of the session's key context (the opener's signed choice, later the
   * workspace-managed set); today nobody is added.
   */
  private java.util.List<X25519PublicKey> inputKeyReviewers(ServerSession s) {
    return java.util.List.of();
  }

  private KeyId ownKeyId() {
    return KeyId.of(config.agreementKey().publicKey());
  }

  /** Reads the PTY until EOF, seals each chunk as stdout, then reports the exit status. */
  private void pump(ServerSession s) {
    Thread.ofPlatform().daemon().name("tty-reader").start(() -> {
      try {
        byte[] chunk;
        // a burst of output becomes one frame (up to its plaintext limit): fewer frames to seal and
        // record; each chunk is a new array of exactly its bytes, sealed as it is
        while ((chunk = s.shell.readBurst(READ_CHUNK)) != null) {
          if (chunk.length == 0) {
            continue;
          }
          s.firstOutput.complete(null);
          WebSocket socket = ws;
          synchronized (drained) {
            // backpressure: park until the socket drains, re-checked every 2 ms: the drain handler
            // does not fire for every full queue (measured: most 50 ms waits of a bulk run ended by
            // their timeout, each a 50 ms stall), and the session may end or the socket be replaced
            while (socket != null && !socket.isClosed() && socket.writeQueueFull() && s.state == State.LIVE) {
              drained.wait(2);
            }
          }
          if (s.state != State.LIVE) {
            break;
          }
          synchronized (s.outputLock) {
            SealedPayload sealed = s.output.seal(Stream.STDOUT, chunk);
            send(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).setSessionId(s.id)
                .setStream(TtyStream.TTY_STREAM_STDOUT).setSealed(TtyFrames.toProto(sealed)).build());
          }
        }
      } catch (Exception e) {
        // EIO at the end of the PTY on Linux: the same as EOF
      }
      int status;
      try {
        status = s.shell.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        status = 130;
      }
      // the process is gone: release the terminal's descriptors now (end() does it otherwise)
      s.shell.close();
      if (s.state == State.LIVE) {
        send(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_EXIT).setSessionId(s.id)
            .setExitStatus(status).build());
        s.state = State.ENDED;
        sessions.remove(s.id);
        s.writer.shutdown();
      }
    });
  }

  /** Ends a session; {@code reason} (a CLOSE to the engine) is null when {@code tellEngine} is false. */
  private void end(ServerSession s, WebTtyReason reason, boolean tellEngine) {
    if (s.state == State.ENDED) {
      return;
    }
    s.state = State.ENDED;
    sessions.remove(s.id);
    if (tellEngine) {
      send(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).setSessionId(s.id)
          .setReason(WebTtyReasons.wire(reason)).build());
    }
    PtyShell shell = s.shell;
    if (shell != null) {
      shell.close();
    }
    s.writer.shutdown();
  }

  /**
   * Checks the opener of every running session again against the current trust (after a trust
   * sync) and ends, with reason {@code client_refused_<why>}, the sessions of clients no longer
   * admitted — e.g. a device revoked since it opened the terminal — and only those: the device is
   * looked up under the current pin ({@link ClientAuthorizer#recheck}), so the rotation that
   * follows a revocation does not end the other trusted devices' sessions. Returns how many it ended.
   * Blocking (reads the pin); call off the event loop.
   */
  public int recheck() {
    int ended = 0;
    // read before the sessions: each of them is then checked against this version or a newer one
    long version = config.authorizer().pinnedKeysetVersion();
    for (ServerSession s : sessions.values()) {
      Ed25519PublicKey key = s.clientKey;
      if (key == null || s.state == State.ENDED) {
        continue;
      }
      String refusal = config.authorizer().recheck(config.workspaceId(), key, s.clientCredential);
      if (refusal != null) {
        stats.count("sessions_ended_client_refused");
        log.warn("WebTTY session {}: its client is no longer admitted ({}); ending it", s.id, refusal);
        vertx.runOnContext(v -> end(s, WebTtyReasons.clientRefused(refusal), true));
        ended++;
      }
    }
    // after the ends above (same context, in order): a test waiting for this sees them done
    vertx.runOnContext(v -> {
      stats.count("rechecks");
      stats.set("rechecked_keyset_version", version);
    });
    return ended;
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
    send(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTER)
        .setServerId(config.serverId()).setPolicy(p).build());
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
