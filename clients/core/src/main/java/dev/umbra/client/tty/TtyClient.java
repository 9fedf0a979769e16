package dev.umbra.client.tty;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.Wire;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A WebTTY client (docs/webtty.md): opens a session on a server (verifying the signed ServerHello
 * and the pinned server keys, then making the payload key, wrapping it for the server, itself and
 * the extra recipients, and answering with a signed ClientProof), or joins / re-attaches to a live
 * one (verifying the opener's signed proof and that its own grant is among the signed ones).
 * Every byte in either direction is AES-256-GCM; a frame that fails to open closes the
 * connection (fail closed), counted in {@link #stats()}.
 *
 * <p>Listener callbacks run on the Vert.x context; {@link #send}, {@link #resize} and the control
 * calls may be called from any thread.
 */
public final class TtyClient {
  public static final String PATH = "/v1/webtty/client";
  /** How long a ClientProof is valid (at most Handshake.MAX_PROOF_WINDOW). */
  public static final long PROOF_WINDOW_MS = 30_000;
  public static final int CONNECT_ATTEMPTS = 3;

  /**
   * Who the client is and whom it trusts. {@code deviceCredential} (null without Workspace
   * Protection) is the device's workspace-signed credential; {@code signingKey} must then be the
   * credential's Ed25519 key, since the daemon checks that the proof's signer is the device.
   */
  public record Options(URI engineUrl, UUID workspaceId, Supplier<Future<String>> tokens, Ed25519KeyPair signingKey,
      X25519KeyPair agreementKey, ServerTrust trust, List<X25519PublicKey> extraRecipients, Clock clock,
      dev.umbra.crypto.sign.Signed deviceCredential, List<Handshake.RecipientDevice> recipientDevices) {

    public Options {
      recipientDevices = List.copyOf(recipientDevices);
    }

    /**
     * Options naming no recipient devices. {@code extraRecipients} holds every output-key
     * recipient besides the server and this client; under Workspace Protection each of them must
     * be the WebTTY key of one of {@code recipientDevices} or the daemon refuses the proof.
     */
    public Options(URI engineUrl, UUID workspaceId, Supplier<Future<String>> tokens, Ed25519KeyPair signingKey,
        X25519KeyPair agreementKey, ServerTrust trust, List<X25519PublicKey> extraRecipients, Clock clock,
        dev.umbra.crypto.sign.Signed deviceCredential) {
      this(engineUrl, workspaceId, tokens, signingKey, agreementKey, trust, extraRecipients, clock, deviceCredential, List.of());
    }

    /** Options without a device credential (workspaces without Workspace Protection). */
    public Options(URI engineUrl, UUID workspaceId, Supplier<Future<String>> tokens, Ed25519KeyPair signingKey,
        X25519KeyPair agreementKey, ServerTrust trust, List<X25519PublicKey> extraRecipients, Clock clock) {
      this(engineUrl, workspaceId, tokens, signingKey, agreementKey, trust, extraRecipients, clock, null);
    }
  }

  /** What the caller hears. */
  public interface Listener {
    /** Decrypted terminal output (stdout and stderr, in order). */
    void output(byte[] bytes);

    default void exit(int status) {}

    /** The connection ended without an exit status (detached, refused, revoked, bad frame...). */
    default void closed(String reason) {}

    /** Control and participant events, refusals (REFUSED), resizes. */
    default void event(WebTtyFrame frame) {}

    /**
     * Output that broke the receiver rules (docs/webtty.md): {@code "output_gap"} with how many
     * frames are missing (the output goes on after the gap), or {@code "output_repeat"} with the
     * refused frame's counter (a replay or a step back: not rendered).
     */
    default void integrity(String problem, long count) {}
  }

  private final Vertx vertx;
  private final io.vertx.core.http.WebSocketClient wsClient;
  private final Options options;
  private final Listener listener;
  private final TtyStats stats = new TtyStats();
  private final Promise<TtyClient> started = Promise.promise();
  private WebSocket ws;
  private String serverId;
  private String sessionId = "";
  private String participantId = "";
  /** Output (stdout/stderr) under the output key, from the server's key id, in counter order. */
  private volatile PayloadCipher output;
  private volatile PayloadKey outputKey;
  private PayloadCounters outputCounters;
  private KeyId serverKeyId;
  private Ed25519PublicKey serverSigningKey;
  private KeyContext context;
  /** The current output key's context and epoch (0: the opener's proof; each share adds one). */
  private KeyContext outputContext;
  private long outputEpoch;
  /** Every output key id this client held in the session (an input grant names one of them). */
  private final java.util.Set<PayloadKeyId> outputKeyIds = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /**
   * The opener's connection only: the X25519 keys of every output recipient but the server, which
   * a share request must list (the daemon knows only their key ids). Grows with each share.
   */
  private final List<X25519PublicKey> recipientKeys = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** The recipient keys of the last share request sent, until an OUTPUT_KEY with exactly them arrives. */
  private volatile List<X25519PublicKey> pendingShare;
  /** Our input key while we control (null otherwise); guarded by {@code this}. */
  private PayloadSender input;
  private long inputEpoch;
  /** A CONTROL_CHANGED naming us, held back until the daemon's input key for us arrived. */
  private WebTtyFrame pendingControl;
  private boolean awaitInputKey;
  /**
   * Keystrokes typed after control moved to us but before the daemon's key for it arrived
   * (bounded; guarded by {@code this}); sent under the new key when it arrives.
   */
  private boolean controlPending;
  private final java.io.ByteArrayOutputStream pendingStdin = new java.io.ByteArrayOutputStream();
  private long stdinSequence;
  private int cols;
  private int rows;
  private String term;
  private boolean attach;
  /** This client opened the session (OPEN), as opposed to joining or re-attaching. */
  private boolean opener;
  private volatile boolean done;
  private volatile boolean e2eVerified;
  private final Set<String> participants = new LinkedHashSet<>();

  private TtyClient(Vertx vertx, Options options, Listener listener) {
    this.vertx = vertx;
    // kept in a field for the client's life: Vert.x closes a client that became unreachable,
    // which (after a GC in the middle of a handshake) fails the connection
    this.wsClient = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(TtyFrames.MAX_FRAME_BYTES * 2).setMaxMessageSize(TtyFrames.MAX_FRAME_BYTES * 2)
        // never offer compression: the engine does not inflate, and neither do we (docs/security.md)
        .setTryUsePerMessageCompression(false).setTryUsePerFrameCompression(false));
    this.options = options;
    this.listener = listener;
  }

  /** Opens a session on {@code serverId}; completes when the server's shell runs (READY). */
  public static Future<TtyClient> open(Vertx vertx, Options options, String serverId, int cols, int rows, String term,
      Listener listener) {
    TtyClient c = new TtyClient(vertx, options, listener);
    c.serverId = serverId;
    c.opener = true;
    c.cols = cols;
    c.rows = rows;
    c.term = term;
    return c.connect(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN).setServerId(serverId)
        .setSize(TerminalSize.newBuilder().setCols(cols).setRows(rows)).build());
  }

  /** Joins a live session as a viewer ({@code attach=false}) or re-attaches to one's own. */
  public static Future<TtyClient> join(Vertx vertx, Options options, String sessionId, boolean attach, Listener listener) {
    TtyClient c = new TtyClient(vertx, options, listener);
    c.sessionId = sessionId;
    c.attach = attach;
    return c.connect(WebTtyFrame.newBuilder()
        .setType(attach ? WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH : WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
        .setSessionId(sessionId)
        .setKeyId(ByteString.copyFrom(KeyId.of(options.agreementKey().publicKey()).toBytes()))
        .setPublicKey(ByteString.copyFrom(options.agreementKey().publicKey().toBytes())).build());
  }

  private Future<TtyClient> connect(WebTtyFrame first) {
    attempt(first, 1);
    return started.future();
  }

  /**
   * Opens the WebSocket; an upgrade that fails before anything was sent (the connection closed
   * during the handshake) is tried again, at most {@link #CONNECT_ATTEMPTS} times.
   */
  private void attempt(WebTtyFrame first, int n) {
    options.tokens().get()
        .compose(token -> {
          URI uri = options.engineUrl();
          boolean tls = "https".equalsIgnoreCase(uri.getScheme()) || "wss".equalsIgnoreCase(uri.getScheme());
          int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
          return wsClient.connect(new WebSocketConnectOptions().setHost(uri.getHost()).setPort(port).setSsl(tls).setURI(PATH)
                  .addHeader("Authorization", "Bearer " + token));
        })
        .onSuccess(socket -> {
          ws = socket;
          socket.binaryMessageHandler(this::onMessage);
          socket.closeHandler(v -> finish(null, socket.closeReason() == null ? "closed" : socket.closeReason()));
          socket.exceptionHandler(e -> { });
          write(first);
        })
        .onFailure(e -> {
          boolean handshake = String.valueOf(e.getMessage()).contains("handshake");
          if (handshake && n < CONNECT_ATTEMPTS) {
            stats.count("connect_retried");
            vertx.setTimer(100L * n, t -> attempt(first, n + 1));
          } else {
            started.tryFail(e);
          }
        });
  }

  public TtyStats stats() {
    return stats;
  }

  public String sessionId() {
    return sessionId;
  }

  public String participantId() {
    return participantId;
  }

  public String serverId() {
    return serverId;
  }

  /** True once the server's signed hello was verified against the pinned keys and the key exchange done. */
  public boolean endToEnd() {
    return e2eVerified;
  }

  public Set<String> participants() {
    return Set.copyOf(participants);
  }

  private void write(WebTtyFrame f) {
    WebSocket socket = ws;
    if (socket != null && !done) {
      socket.writeBinaryMessage(Buffer.buffer(f.toByteArray()));
    }
  }

  /** True while the WebSocket's send queue is full (callers reading a fast source may wait). */
  public boolean sendQueueFull() {
    WebSocket socket = ws;
    return socket != null && socket.writeQueueFull();
  }

  /**
   * Encrypts and sends keystrokes under our input key. Without one (a viewer, or control not
   * ours yet) nothing is sent: the keystrokes are refused here, counted, and reported to the
   * listener as {@code REFUSED not_controller}, as the engine would.
   */
  public synchronized void send(byte[] bytes) {
    if (output == null || done) {
      throw new IllegalStateException("the session is not ready");
    }
    if (input == null && controlPending) {
      if (pendingStdin.size() + bytes.length > TtyFrames.MAX_PLAINTEXT) {
        stats.count("stdin_dropped_awaiting_key");
      } else {
        pendingStdin.writeBytes(bytes);
      }
      return;
    }
    if (input == null) {
      stats.count("stdin_without_control");
      listener.event(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED).setSessionId(sessionId)
          .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER)).build());
      return;
    }
    for (int off = 0; off < bytes.length; off += TtyFrames.MAX_PLAINTEXT) {
      byte[] chunk = Arrays.copyOfRange(bytes, off, Math.min(bytes.length, off + TtyFrames.MAX_PLAINTEXT));
      SealedPayload p = input.seal(Stream.STDIN, chunk);
      write(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).setSessionId(sessionId)
          .setStream(TtyStream.TTY_STREAM_STDIN).setSequence(++stdinSequence).setSealed(TtyFrames.toProto(p)).build());
    }
  }

  /** True while this client holds an input key (it controls the session). */
  public synchronized boolean hasControl() {
    return input != null;
  }

  /** Seals stdin like {@link #send} and lets {@code tamper} change the frame first (tests of the server's checks). */
  synchronized void sendTampered(byte[] bytes, java.util.function.UnaryOperator<WebTtyFrame> tamper) {
    SealedPayload p = input.seal(Stream.STDIN, bytes);
    write(tamper.apply(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).setSessionId(sessionId)
        .setStream(TtyStream.TTY_STREAM_STDIN).setSequence(++stdinSequence).setSealed(TtyFrames.toProto(p)).build()));
  }

  /** The output cipher (tests: its key id and context). */
  PayloadCipher outputCipher() {
    return output;
  }

  /** The output key (tests: what a viewer holds, to forge with). */
  PayloadKey outputKey() {
    return outputKey;
  }

  /** The current input sender, or null (tests: a previous controller's key, to replay with). */
  synchronized PayloadSender inputSender() {
    return input;
  }

  /** The terminal size, sealed under our input key (the visible size is for the engine and viewers). */
  public synchronized void resize(int newCols, int newRows) {
    WebTtyFrame.Builder f = WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESIZE)
        .setSessionId(sessionId).setSize(TerminalSize.newBuilder().setCols(newCols).setRows(newRows));
    if (input == null) {
      stats.count("resize_without_control");
      return;
    }
    f.setSealed(TtyFrames.toProto(input.seal(Stream.RESIZE, TtyFrames.resizePlaintext(newCols, newRows))));
    write(f.build());
  }

  /**
   * Adds recipients to this (opened) session: sends the opener's signed share request naming every
   * recipient key (the current ones and {@code added}) and the devices vouching for the added ones
   * (Workspace Protection). The daemon answers with OUTPUT_KEY to everyone (then the listener's
   * {@code event}) or a REFUSED {@code share_refused_*}. Only the connection that opened the
   * session knows the recipients' keys; elsewhere this throws.
   */
  public void share(List<X25519PublicKey> added, List<Handshake.RecipientDevice> devices) {
    if (recipientKeys.isEmpty()) {
      throw new IllegalStateException("only the connection that opened the session can share it");
    }
    List<X25519PublicKey> all = new ArrayList<>(recipientKeys);
    for (X25519PublicKey k : added) {
      if (!all.contains(k)) {
        all.add(k);
      }
    }
    long now = options.clock().millis();
    Handshake.ShareRequest r = new Handshake.ShareRequest(options.workspaceId().toString(), serverId, sessionId, all,
        devices, now, now + PROOF_WINDOW_MS);
    // the recipients change only when the daemon's OUTPUT_KEY for exactly this set arrives (a
    // refused share must not leave its keys in the next request)
    pendingShare = r.recipientKeys();
    shareSigned(Handshake.sign(r, options.signingKey()));
  }

  /** Sends an already signed share request as it is (tests use it to replay one). */
  void shareSigned(SignedMessage request) {
    write(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SHARE).setSessionId(sessionId)
        .setShareRequest(request).build());
  }

  public void requestControl() {
    write(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST).setSessionId(sessionId).build());
  }

  public void giveControl(String participant) {
    write(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_GIVE).setSessionId(sessionId)
        .setParticipantId(participant).build());
  }

  public void takeControl() {
    synchronized (this) {
      // only the opener (this client opened or re-attached) may take control: from now on what it
      // types is held until the daemon's fresh input key arrives, not refused because the engine's
      // CONTROL_CHANGED is still on its way (at most 64 KiB; a refused take drops it)
      if (input == null && (opener || attach)) {
        controlPending = true;
      }
    }
    write(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_TAKE).setSessionId(sessionId).build());
  }

  /** Leaves; for the opener the shell keeps running (detached) and {@link #join} with attach re-attaches. */
  public void detach() {
    write(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).setSessionId(sessionId)
        .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_DETACHED)).build());
    WebSocket socket = ws;
    if (socket != null) {
      socket.close();
    }
  }

  /** Ends the session for everyone (opener only). */
  public void terminate() {
    write(WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).setSessionId(sessionId)
        .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_TERMINATE)).build());
  }

  private void onMessage(Buffer buf) {
    if (done) {
      return;
    }
    WebTtyFrame f;
    try {
      f = Wire.parseAliased(WebTtyFrame.parser(), buf.getBytes()); // the ciphertext is not copied again
    } catch (InvalidProtocolBufferException e) {
      fail("malformed_frame");
      return;
    }
    try {
      switch (f.getType()) {
        case WEBTTY_FRAME_TYPE_SERVER_HELLO -> hello(f);
        case WEBTTY_FRAME_TYPE_READY -> {
          if (input == null) {
            fail("ready_before_key_exchange");
            return;
          }
          started.tryComplete(this);
        }
        case WEBTTY_FRAME_TYPE_JOINED -> joined(f);
        case WEBTTY_FRAME_TYPE_DATA -> data(f);
        case WEBTTY_FRAME_TYPE_INPUT_KEY -> inputKey(f);
        case WEBTTY_FRAME_TYPE_OUTPUT_KEY -> outputKey(f);
        case WEBTTY_FRAME_TYPE_CONTROL_CHANGED -> controlChanged(f);
        case WEBTTY_FRAME_TYPE_EXIT -> {
          done = true;
          started.tryFail(new IllegalStateException("the session ended (exit " + f.getExitStatus() + ")"));
          listener.exit(f.getExitStatus());
          closeSocket();
        }
        case WEBTTY_FRAME_TYPE_CLOSE -> finish(null, f.getReason().isEmpty() ? "closed" : f.getReason());
        case WEBTTY_FRAME_TYPE_ERROR -> finish(null, f.getReason());
        case WEBTTY_FRAME_TYPE_REFUSED -> {
          if (!started.future().isComplete()) {
            finish(null, f.getReason());
          } else {
            if (f.getReason().equals(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_NOT_OWNER))) {
              synchronized (this) {
                // our CONTROL_TAKE was refused: nothing held for it will be sent
                if (input == null && controlPending && pendingControl == null) {
                  controlPending = false;
                  pendingStdin.reset();
                }
              }
            }
            listener.event(f);
          }
        }
        case WEBTTY_FRAME_TYPE_PARTICIPANT_JOINED -> {
          participants.add(f.getParticipantId());
          listener.event(f);
        }
        case WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT -> {
          participants.remove(f.getParticipantId());
          listener.event(f);
        }
        default -> listener.event(f);
      }
    } catch (CryptoException | IllegalArgumentException e) {
      fail(e instanceof AuthenticationFailedException ? "authentication_failed" : "refused_crypto");
      started.tryFail(e);
    }
  }

  /** Server's hello: signature, pinned keys, ids; then the key exchange and the signed proof. */
  private void hello(WebTtyFrame f) {
    if (!sessionId.isEmpty() || serverId == null) {
      fail("unexpected_hello");
      return;
    }
    Handshake.ServerHello h = Handshake.verify(f.getServerHello());
    if (!h.workspaceId().equals(options.workspaceId().toString()) || !h.serverId().equals(serverId)
        || !h.sessionId().equals(f.getSessionId())) {
      throw new AuthenticationFailedException("ServerHello is for another workspace, server or session");
    }
    options.trust().check(options.workspaceId(), serverId, h.signingKey(), h.agreementKey());
    sessionId = h.sessionId();
    participantId = f.getParticipantId(); // the engine names the opener's participant here
    List<X25519PublicKey> recipients = new ArrayList<>();
    recipients.add(h.agreementKey());
    recipients.add(options.agreementKey().publicKey());
    for (X25519PublicKey r : options.extraRecipients()) {
      if (!recipients.contains(r)) {
        recipients.add(r);
      }
    }
    List<KeyId> ids = new ArrayList<>();
    for (X25519PublicKey r : recipients) {
      ids.add(KeyId.of(r));
    }
    KeyContext context = new KeyContext(options.workspaceId().toString(), serverId, sessionId, ids);
    // v2 split keys: the output key for every recipient, the input key (epoch 0) for the server and us only
    PayloadKey outputKey = PayloadKey.generate();
    PayloadKeyId outputKeyId = PayloadKeyId.generate();
    PayloadKey inputKey = PayloadKey.generate();
    PayloadKeyId inputKeyId = PayloadKeyId.generate();
    List<KeyGrant> grants = new ArrayList<>(KeyGrants.wrapForAll(KeyRole.OUTPUT, outputKey, outputKeyId, context, recipients));
    grants.addAll(KeyGrants.wrapForAll(KeyRole.INPUT, inputKey, inputKeyId, context,
        List.of(h.agreementKey(), options.agreementKey().publicKey())));
    long now = options.clock().millis();
    Handshake.ClientProof proof = new Handshake.ClientProof(options.workspaceId().toString(), serverId, sessionId,
        h.nonce(), options.signingKey().publicKey(), options.agreementKey().publicKey(), cols, rows, term, context,
        outputKeyId, inputKeyId, grants, now, now + PROOF_WINDOW_MS, options.deviceCredential(), options.recipientDevices());
    WebTtyFrame.Builder out = WebTtyFrame.newBuilder().setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLIENT_PROOF)
        .setSessionId(sessionId).setClientProof(Handshake.sign(proof, options.signingKey()))
        .setKeyContext(ByteString.copyFrom(context.toCanonicalJson()))
        .setKeyId(ByteString.copyFrom(ownKeyId().toBytes()))
        .setPublicKey(ByteString.copyFrom(options.agreementKey().publicKey().toBytes()));
    for (KeyGrant g : grants) {
      out.addGrants(TtyFrames.toProto(g));
    }
    this.context = context;
    serverKeyId = KeyId.of(h.agreementKey());
    serverSigningKey = h.signingKey();
    outputCounters = PayloadCounters.fromZero();
    output = new PayloadCipher(KeyRole.OUTPUT, outputKey, outputKeyId, context);
    outputContext = context;
    outputKeyIds.add(outputKeyId);
    recipientKeys.addAll(recipients.subList(1, recipients.size()));
    this.outputKey = outputKey;
    synchronized (this) {
      input = new PayloadSender(new PayloadCipher(KeyRole.INPUT, inputKey, inputKeyId, context), ownKeyId());
    }
    e2eVerified = true;
    write(out.build());
  }

  /** Joined or re-attached: check the hello, the opener's signed proof and our grant in it; unwrap. */
  private void joined(WebTtyFrame f) {
    participantId = f.getParticipantId();
    for (var p : f.getParticipantsList()) {
      participants.add(p.getParticipantId());
    }
    serverId = f.getServerId();
    Handshake.ServerHello h = Handshake.verify(f.getServerHello());
    if (!h.workspaceId().equals(options.workspaceId().toString()) || !h.sessionId().equals(sessionId)
        || !h.serverId().equals(serverId)) {
      throw new AuthenticationFailedException("ServerHello is for another workspace, server or session");
    }
    options.trust().check(options.workspaceId(), serverId, h.signingKey(), h.agreementKey());
    Handshake.ClientProof proof = Handshake.verifyProof(f.getClientProof());
    if (!proof.workspaceId().equals(options.workspaceId().toString()) || !proof.sessionId().equals(sessionId)
        || !proof.serverId().equals(serverId)) {
      throw new AuthenticationFailedException("ClientProof is for another workspace, server or session");
    }
    context = proof.keyContext();
    serverKeyId = KeyId.of(h.agreementKey());
    serverSigningKey = h.signingKey();
    // a joiner cannot know how far the live session's output counter is: it starts where it joins
    outputCounters = PayloadCounters.fromFirstSeen();
    if (f.hasOutputKeyEpoch()) {
      // after a share the session reads under the latest output-key epoch: its grant is in the
      // daemon-signed document (verified against the pinned server key), not in the opener's proof.
      // A joiner cannot check it is the latest (it saw none before); an older one would not open
      // the output that follows, which closes the connection
      dev.umbra.crypto.webtty.OutputKeyEpoch e = dev.umbra.crypto.webtty.OutputKeyEpoch.verify(
          f.getOutputKeyEpoch().getCanonicalJson().toByteArray(), f.getOutputKeyEpoch().getSignature().toByteArray(),
          serverSigningKey);
      if (!e.workspaceId().equals(options.workspaceId().toString()) || !e.serverId().equals(serverId)
          || !e.sessionId().equals(sessionId) || e.grantFor(ownKeyId()) == null) {
        throw new AuthenticationFailedException("output-key epoch is for another session or not granted to this key");
      }
      PayloadKey key = KeyGrants.unwrap(e.grantFor(ownKeyId()), e.keyContext(), options.agreementKey());
      output = new PayloadCipher(KeyRole.OUTPUT, key, e.outputKeyId(), e.keyContext());
      outputContext = e.keyContext();
      outputEpoch = e.epoch();
      outputKeyIds.add(e.outputKeyId());
      outputKey = key;
    } else {
      PayloadKey key = unwrapOwnGrant(f.getClientProof(), options.workspaceId(), serverId, sessionId,
          options.agreementKey(), KeyRole.OUTPUT);
      output = new PayloadCipher(KeyRole.OUTPUT, key, proof.outputKeyId(), proof.keyContext());
      outputContext = proof.keyContext();
      outputKeyIds.add(proof.outputKeyId());
      outputKey = key;
    }
    e2eVerified = true;
    if (f.getRole() == ParticipantRole.PARTICIPANT_ROLE_CONTROLLER) {
      // re-attached with control: ready once the daemon's fresh input key for us arrived
      awaitInputKey = true;
      synchronized (this) {
        controlPending = true;
      }
      return;
    }
    started.tryComplete(this);
  }

  /**
   * The daemon's fresh input key after a control change: verified against the pinned server key
   * (the hello's, which the pin check accepted), for this session, addressed to us, with a newer
   * epoch than any seen; only then do we type with it.
   */
  private void inputKey(WebTtyFrame f) {
    if (serverSigningKey == null || context == null) {
      fail("input_key_before_key_exchange");
      return;
    }
    InputKeyGrant g = InputKeyGrant.verify(f.getInputKeyGrant().getCanonicalJson().toByteArray(),
        f.getInputKeyGrant().getSignature().toByteArray(), serverSigningKey);
    if (!g.workspaceId().equals(options.workspaceId().toString()) || !g.serverId().equals(serverId)
        || !g.sessionId().equals(sessionId) || !g.controllerKeyId().equals(ownKeyId())
        || !outputKeyIds.contains(g.outputKeyId())) {
      throw new AuthenticationFailedException("input key grant is for another session or key");
    }
    if (g.epoch() <= inputEpoch) {
      stats.count("input_key_replayed");
      return;
    }
    PayloadKey key = KeyGrants.unwrap(g.grantFor(ownKeyId()), context, options.agreementKey());
    synchronized (this) {
      inputEpoch = g.epoch();
      input = new PayloadSender(new PayloadCipher(KeyRole.INPUT, key, g.inputKeyId(), context), ownKeyId());
      controlPending = false;
      if (pendingStdin.size() > 0) {
        byte[] typed = pendingStdin.toByteArray();
        pendingStdin.reset();
        send(typed);
      }
    }
    stats.count("input_keys_received");
    WebTtyFrame held = pendingControl;
    pendingControl = null;
    if (held != null) {
      listener.event(held);
    }
    if (awaitInputKey) {
      awaitInputKey = false;
      started.tryComplete(this);
    }
  }

  /**
   * A share started output-key epoch n+1: the document must verify under the pinned server key,
   * name this session, be exactly the next epoch after ours, retire the key we hold and keep every
   * recipient (OutputKeyEpoch.verifyNext). A document of an epoch we already passed (a replay or a
   * rollback by the engine) is refused and ignored, counted {@code output_key_replayed}; anything
   * else that fails closes the connection ({@code output_key_refused}). Then output is read under
   * the new key, its counters from 0; output under a retired key no longer opens.
   */
  private void outputKey(WebTtyFrame f) {
    if (serverSigningKey == null || outputContext == null) {
      fail("output_key_before_key_exchange");
      return;
    }
    dev.umbra.crypto.webtty.OutputKeyEpoch e;
    try {
      e = dev.umbra.crypto.webtty.OutputKeyEpoch.verify(f.getOutputKeyEpoch().getCanonicalJson().toByteArray(),
          f.getOutputKeyEpoch().getSignature().toByteArray(), serverSigningKey);
      if (e.epoch() <= outputEpoch && e.sessionId().equals(sessionId)) {
        stats.count("output_key_replayed");
        listener.integrity("output_key_replayed", e.epoch());
        return;
      }
      e.requireNextOf(outputContext, outputEpoch, output.keyId());
    } catch (dev.umbra.crypto.CryptoException x) {
      stats.count("output_key_refused");
      fail(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_OUTPUT_KEY_REFUSED));
      return;
    }
    KeyGrant mine = e.grantFor(ownKeyId());
    if (mine == null) {
      stats.count("output_key_refused");
      fail(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_OUTPUT_KEY_REFUSED));
      return;
    }
    PayloadKey key = KeyGrants.unwrap(mine, e.keyContext(), options.agreementKey());
    outputCounters = PayloadCounters.fromZero();
    output = new PayloadCipher(KeyRole.OUTPUT, key, e.outputKeyId(), e.keyContext());
    outputKey = key;
    outputContext = e.keyContext();
    outputEpoch = e.epoch();
    outputKeyIds.add(e.outputKeyId());
    List<X25519PublicKey> pending = pendingShare;
    if (pending != null) {
      java.util.Set<KeyId> ids = new java.util.HashSet<>(List.of(serverKeyId));
      pending.forEach(k -> ids.add(KeyId.of(k)));
      if (ids.equals(new java.util.HashSet<>(e.keyContext().recipients()))) {
        recipientKeys.clear();
        recipientKeys.addAll(pending);
        pendingShare = null;
      }
    }
    stats.count("output_keys_received");
    listener.event(f);
  }

  /** Control moved: our input key (if any) is retired; a change naming us waits for its key. */
  private void controlChanged(WebTtyFrame f) {
    boolean mine = !participantId.isEmpty() && f.getParticipantId().equals(participantId);
    synchronized (this) {
      input = null;
      if (!mine || !controlPending) {
        // what was held for a take that went to someone else is not ours to send; what the opener
        // typed after its own CONTROL_TAKE (held since then) waits for the key this change brings
        pendingStdin.reset();
      }
      controlPending = mine;
    }
    if (mine) {
      pendingControl = f;
      return;
    }
    listener.event(f);
  }

  private KeyId ownKeyId() {
    return KeyId.of(options.agreementKey().publicKey());
  }

  /**
   * The payload key from the opener's signed ClientProof (never from unsigned engine copies):
   * verifies the proof's signature and ids, finds the grant addressed to {@code me}, unwraps it.
   */
  public static PayloadKey unwrapOwnGrant(SignedMessage signedProof, UUID workspaceId, String serverId,
      String sessionId, X25519KeyPair me, KeyRole role) {
    Handshake.ClientProof proof = Handshake.verifyProof(signedProof);
    if (!proof.workspaceId().equals(workspaceId.toString()) || !proof.sessionId().equals(sessionId)
        || (serverId != null && !proof.serverId().equals(serverId))) {
      throw new AuthenticationFailedException("ClientProof is for another workspace, server or session");
    }
    KeyGrant mine = proof.grantFor(me.publicKey(), role);
    if (mine == null) {
      throw new AuthenticationFailedException("the session's " + role.wireName() + " key was not granted to this key");
    }
    return KeyGrants.unwrap(mine, proof.keyContext(), me);
  }

  /**
   * Output, under the receiver rules: the server's key id as sender, a tag that verifies (else the
   * connection closes), then the counter: a repeat or a step back is refused (counted, reported,
   * not rendered); a gap is reported ("output gap: N frames missing") and the output goes on.
   */
  private void data(WebTtyFrame f) {
    PayloadCipher c = output;
    if (c == null) {
      fail("data_before_key");
      return;
    }
    if (f.getStream() == TtyStream.TTY_STREAM_STDIN) {
      return; // the engine does not fan stdin out; ignore rather than render it
    }
    SealedPayload p = TtyFrames.fromProto(f.getStream(), f.getSealed());
    if (!p.senderKeyId().equals(serverKeyId)) {
      // output from anyone but the daemon (a recipient holding the output key, via the engine)
      throw new AuthenticationFailedException("output not sent by the server");
    }
    byte[] plain = c.open(p);
    PayloadCounters.Verdict v = outputCounters.observe(p);
    if (v.kind() == PayloadCounters.Kind.REPEAT) {
      stats.count("output_refused_replayed");
      listener.integrity("output_repeat", p.counter());
      return;
    }
    if (v.kind() == PayloadCounters.Kind.GAP) {
      stats.count("output_gap");
      stats.add("output_frames_missing", v.missing());
      listener.integrity("output_gap", v.missing());
    }
    listener.output(plain);
  }

  private void fail(String reason) {
    stats.count("dropped_" + reason);
    finish(null, reason);
    closeSocket();
  }

  private void finish(Integer status, String reason) {
    if (done) {
      return;
    }
    done = true;
    started.tryFail(new IllegalStateException("WebTTY session refused: " + reason));
    listener.closed(reason);
  }

  private void closeSocket() {
    WebSocket socket = ws;
    if (socket != null) {
      vertx.runOnContext(v -> socket.close());
    }
  }
}
