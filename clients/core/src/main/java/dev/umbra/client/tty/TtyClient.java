package dev.umbra.client.tty;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A WebTTY client (docs/webtty.md): opens a session on a server (verifying the signed ServerHello
 * and the pinned server keys, then making the payload key, wrapping it for the server, itself and
 * the extra recipients, and answering with a signed ClientProof), or joins / re-attaches to a live
 * one (verifying the opener's signed proof and that its own grant is among the signed ones). Every
 * byte in either direction is AES-256-GCM; a frame that fails to open closes the connection (fail
 * closed), counted in {@link #stats()}.
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
  public record Options(
      URI engineUrl,
      UUID workspaceId,
      Supplier<Future<String>> tokens,
      Ed25519KeyPair signingKey,
      X25519KeyPair agreementKey,
      ServerTrust trust,
      List<X25519PublicKey> extraRecipients,
      Clock clock,
      dev.umbra.crypto.sign.Signed deviceCredential,
      List<Handshake.RecipientDevice> recipientDevices) {

    public Options {
      recipientDevices = List.copyOf(recipientDevices);
    }

    /**
     * Options naming no recipient devices. {@code extraRecipients} holds every output-key recipient
     * besides the server and this client; under Workspace Protection each of them must be the
     * WebTTY key of one of {@code recipientDevices} or the daemon refuses the proof.
     */
    public Options(
        URI engineUrl,
        UUID workspaceId,
        Supplier<Future<String>> tokens,
        Ed25519KeyPair signingKey,
        X25519KeyPair agreementKey,
        ServerTrust trust,
        List<X25519PublicKey> extraRecipients,
        Clock clock,
        dev.umbra.crypto.sign.Signed deviceCredential) {
      this(
          engineUrl,
          workspaceId,
          tokens,
          signingKey,
          agreementKey,
          trust,
          extraRecipients,
          clock,
          deviceCredential,
          List.of());
    }

    /** Options without a device credential (workspaces without Workspace Protection). */
    public Options(
        URI engineUrl,
        UUID workspaceId,
        Supplier<Future<String>> tokens,
        Ed25519KeyPair signingKey,
        X25519KeyPair agreementKey,
        ServerTrust trust,
        List<X25519PublicKey> extraRecipients,
        Clock clock) {
      this(
          engineUrl,
          workspaceId,
          tokens,
          signingKey,
          agreementKey,
          trust,
          extraRecipients,
          clock,
          null);
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

  /** Output under the current output-key epoch, in counter order. */
  private final OutputDecryptor outputs;

  /** Keystrokes and sizes under our input key while we control. */
  private final InputSealer inputs;

  private final ShareRequests shares = new ShareRequests();
  private Ed25519PublicKey serverSigningKey;

  /** The opener's key context: input keys are bound to it. */
  private KeyContext context;

  /** A CONTROL_CHANGED naming us, held back until the daemon's input key for us arrived. */
  private WebTtyFrame pendingControl;

  private boolean awaitInputKey;
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
    this.wsClient =
        vertx.createWebSocketClient(
            new WebSocketClientOptions()
                .setMaxFrameSize(TtyFrames.MAX_FRAME_BYTES * 2)
                .setMaxMessageSize(TtyFrames.MAX_FRAME_BYTES * 2)
                // never offer compression: the engine does not inflate, and neither do we
                // (docs/security.md)
                .setTryUsePerMessageCompression(false)
                .setTryUsePerFrameCompression(false));
    this.options = options;
    this.listener = listener;
    this.outputs = new OutputDecryptor(stats, listener);
    this.inputs = new InputSealer(stats, listener, this::write, () -> sessionId);
  }

  /** Opens a session on {@code serverId}; completes when the server's shell runs (READY). */
  public static Future<TtyClient> open(
      Vertx vertx,
      Options options,
      String serverId,
      int cols,
      int rows,
      String term,
      Listener listener) {
    TtyClient c = new TtyClient(vertx, options, listener);
    c.serverId = serverId;
    c.opener = true;
    c.cols = cols;
    c.rows = rows;
    c.term = term;
    return c.connect(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN)
            .setServerId(serverId)
            .setSize(TerminalSize.newBuilder().setCols(cols).setRows(rows))
            .build());
  }

  /** Joins a live session as a viewer ({@code attach=false}) or re-attaches to one's own. */
  public static Future<TtyClient> join(
      Vertx vertx, Options options, String sessionId, boolean attach, Listener listener) {
    TtyClient c = new TtyClient(vertx, options, listener);
    c.sessionId = sessionId;
    c.attach = attach;
    return c.connect(
        WebTtyFrame.newBuilder()
            .setType(
                attach
                    ? WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH
                    : WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
            .setSessionId(sessionId)
            .setKeyId(ByteString.copyFrom(KeyId.of(options.agreementKey().publicKey()).toBytes()))
            .setPublicKey(ByteString.copyFrom(options.agreementKey().publicKey().toBytes()))
            .build());
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
    options
        .tokens()
        .get()
        .compose(
            token -> {
              URI uri = options.engineUrl();
              boolean tls =
                  "https".equalsIgnoreCase(uri.getScheme())
                      || "wss".equalsIgnoreCase(uri.getScheme());
              int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
              return wsClient.connect(
                  new WebSocketConnectOptions()
                      .setHost(uri.getHost())
                      .setPort(port)
                      .setSsl(tls)
                      .setURI(PATH)
                      .addHeader("Authorization", "Bearer " + token));
            })
        .onSuccess(
            socket -> {
              ws = socket;
              socket.binaryMessageHandler(this::onMessage);
              socket.closeHandler(
                  v ->
                      finish(null, socket.closeReason() == null ? "closed" : socket.closeReason()));
              socket.exceptionHandler(e -> {});
              write(first);
            })
        .onFailure(
            e -> {
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

  /**
   * True once the server's signed hello was verified against the pinned keys and the key exchange
   * done.
   */
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
   * Encrypts and sends keystrokes under our input key. Without one (a viewer, or control not ours
   * yet) nothing is sent: the keystrokes are refused here, counted, and reported to the listener as
   * {@code REFUSED not_controller}, as the engine would.
   */
  public void send(byte[] bytes) {
    if (!outputs.ready() || done) {
      throw new IllegalStateException("the session is not ready");
    }
    inputs.send(bytes);
  }

  /** True while this client holds an input key (it controls the session). */
  public boolean hasControl() {
    return inputs.hasControl();
  }

  /**
   * Seals stdin like {@link #send} and lets {@code tamper} change the frame first (tests of the
   * server's checks).
   */
  void sendTampered(byte[] bytes, java.util.function.UnaryOperator<WebTtyFrame> tamper) {
    inputs.sendTampered(bytes, tamper);
  }

  /** The output cipher (tests: its key id and context). */
  PayloadCipher outputCipher() {
    return outputs.cipher();
  }

  /** The output key (tests: what a viewer holds, to forge with). */
  PayloadKey outputKey() {
    return outputs.key();
  }

  /** The current input sender, or null (tests: a previous controller's key, to replay with). */
  PayloadSender inputSender() {
    return inputs.sender();
  }

  /**
   * The terminal size, sealed under our input key (the visible size is for the engine and viewers).
   */
  public void resize(int newCols, int newRows) {
    inputs.resize(newCols, newRows);
  }

  /**
   * Adds recipients to this live session: sends a signed share request naming the keys to add (on
   * the connection that opened the session, every recipient key: it knows them all) and the devices
   * vouching for them (Workspace Protection). The opener (also re-attached) signs with the key that
   * signed its proof; a participant given control signs with its device key and names itself as
   * {@code sharer} (its credential and WebTTY key binding), which the daemon checks under its pin
   * against the current controller. The daemon answers with OUTPUT_KEY to everyone (then the
   * listener's {@code event}) or a REFUSED {@code share_refused_*}.
   */
  public void share(
      List<X25519PublicKey> added,
      List<Handshake.RecipientDevice> devices,
      Handshake.RecipientDevice self) {
    List<X25519PublicKey> all = shares.withAdded(added);
    long now = options.clock().millis();
    Handshake.ShareRequest r =
        new Handshake.ShareRequest(
            options.workspaceId().toString(),
            serverId,
            sessionId,
            all,
            devices,
            now,
            now + PROOF_WINDOW_MS,
            opener || attach ? null : self);
    // the recipients change only when the daemon's OUTPUT_KEY with these keys arrives (a refused
    // share must not leave its keys in the next request)
    shares.requested(r.recipientKeys());
    shareSigned(Handshake.sign(r, options.signingKey()));
  }

  /** {@link #share(List, List, Handshake.RecipientDevice)} by the opener (no sharer entry). */
  public void share(List<X25519PublicKey> added, List<Handshake.RecipientDevice> devices) {
    share(added, devices, null);
  }

  /** Sends an already signed share request as it is (tests use it to replay one). */
  public void shareSigned(SignedMessage request) {
    write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SHARE)
            .setSessionId(sessionId)
            .setShareRequest(request)
            .build());
  }

  public void requestControl() {
    write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST)
            .setSessionId(sessionId)
            .build());
  }

  public void giveControl(String participant) {
    write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_GIVE)
            .setSessionId(sessionId)
            .setParticipantId(participant)
            .build());
  }

  public void takeControl() {
    // only the opener (this client opened or re-attached) may take control: from now on what it
    // types is held until the daemon's fresh input key arrives, not refused because the engine's
    // CONTROL_CHANGED is still on its way (at most 64 KiB; a refused take drops it)
    if (opener || attach) {
      inputs.taking();
    }
    write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_TAKE)
            .setSessionId(sessionId)
            .build());
  }

  /**
   * Leaves; for the opener the shell keeps running (detached) and {@link #join} with attach
   * re-attaches.
   */
  public void detach() {
    write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
            .setSessionId(sessionId)
            .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_DETACHED))
            .build());
    WebSocket socket = ws;
    if (socket != null) {
      socket.close();
    }
  }

  /** Ends the session for everyone (opener only). */
  public void terminate() {
    write(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
            .setSessionId(sessionId)
            .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_TERMINATE))
            .build());
  }

  private void onMessage(Buffer buf) {
    if (done) {
      return;
    }
    WebTtyFrame f;
    try {
      f = TtyFrames.parse(buf); // in place: the ciphertext is a view, not a copy
    } catch (InvalidProtocolBufferException e) {
      fail("malformed_frame");
      return;
    }
    try {
      switch (f.getType()) {
        case WEBTTY_FRAME_TYPE_SERVER_HELLO -> hello(f);
        case WEBTTY_FRAME_TYPE_READY -> {
          if (!inputs.hasControl()) {
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
          started.tryFail(
              new IllegalStateException("the session ended (exit " + f.getExitStatus() + ")"));
          listener.exit(f.getExitStatus());
          closeSocket();
        }
        case WEBTTY_FRAME_TYPE_CLOSE ->
            finish(null, f.getReason().isEmpty() ? "closed" : f.getReason());
        case WEBTTY_FRAME_TYPE_ERROR -> finish(null, f.getReason());
        case WEBTTY_FRAME_TYPE_REFUSED -> {
          if (!started.future().isComplete()) {
            finish(null, f.getReason());
          } else {
            if (f.getReason().equals(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_NOT_OWNER))) {
              inputs.takeRefused(pendingControl != null); // our CONTROL_TAKE was refused
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
    if (!h.workspaceId().equals(options.workspaceId().toString())
        || !h.serverId().equals(serverId)
        || !h.sessionId().equals(f.getSessionId())) {
      throw new AuthenticationFailedException(
          "ServerHello is for another workspace, server or session");
    }
    options.trust().check(options.workspaceId(), serverId, h.signingKey(), h.agreementKey());
    sessionId = h.sessionId();
    participantId = f.getParticipantId(); // the engine names the opener's participant here
    ClientKeyExchange.Opened keys =
        ClientKeyExchange.open(options, serverId, sessionId, h, cols, rows, term);
    KeyContext context = keys.context();
    this.context = context;
    serverSigningKey = h.signingKey();
    outputs.start(
        KeyId.of(h.agreementKey()),
        PayloadCounters.fromZero(),
        keys.outputKey(),
        keys.outputKeyId(),
        context,
        0);
    shares.opened(keys.recipients().subList(1, keys.recipients().size()));
    inputs.opened(
        new PayloadSender(
            new PayloadCipher(KeyRole.INPUT, keys.inputKey(), keys.inputKeyId(), context),
            ownKeyId()));
    e2eVerified = true;
    write(keys.proofFrame());
  }

  /**
   * Joined or re-attached: check the hello, the opener's signed proof and our grant in it; unwrap.
   */
  private void joined(WebTtyFrame f) {
    participantId = f.getParticipantId();
    for (var p : f.getParticipantsList()) {
      participants.add(p.getParticipantId());
    }
    serverId = f.getServerId();
    Handshake.ServerHello h = Handshake.verify(f.getServerHello());
    if (!h.workspaceId().equals(options.workspaceId().toString())
        || !h.sessionId().equals(sessionId)
        || !h.serverId().equals(serverId)) {
      throw new AuthenticationFailedException(
          "ServerHello is for another workspace, server or session");
    }
    options.trust().check(options.workspaceId(), serverId, h.signingKey(), h.agreementKey());
    Handshake.ClientProof proof = Handshake.verifyProof(f.getClientProof());
    if (!proof.workspaceId().equals(options.workspaceId().toString())
        || !proof.sessionId().equals(sessionId)
        || !proof.serverId().equals(serverId)) {
      throw new AuthenticationFailedException(
          "ClientProof is for another workspace, server or session");
    }
    context = proof.keyContext();
    serverSigningKey = h.signingKey();
    // a joiner cannot know how far the live session's output counter is: it starts where it joins
    PayloadCounters counters = PayloadCounters.fromFirstSeen();
    if (f.hasOutputKeyEpoch()) {
      // after a share: the grant is in the latest daemon-signed output-key epoch, not in the proof
      dev.umbra.crypto.webtty.OutputKeyEpoch e =
          ClientKeyExchange.joinedEpoch(
              f.getOutputKeyEpoch(),
              serverSigningKey,
              options.workspaceId(),
              serverId,
              sessionId,
              ownKeyId());
      PayloadKey key =
          KeyGrants.unwrap(e.grantFor(ownKeyId()), e.keyContext(), options.agreementKey());
      outputs.start(
          KeyId.of(h.agreementKey()), counters, key, e.outputKeyId(), e.keyContext(), e.epoch());
    } else {
      PayloadKey key =
          unwrapOwnGrant(
              f.getClientProof(),
              options.workspaceId(),
              serverId,
              sessionId,
              options.agreementKey(),
              KeyRole.OUTPUT);
      outputs.start(
          KeyId.of(h.agreementKey()), counters, key, proof.outputKeyId(), proof.keyContext(), 0);
    }
    e2eVerified = true;
    if (f.getRole() == ParticipantRole.PARTICIPANT_ROLE_CONTROLLER) {
      // re-attached with control: ready once the daemon's fresh input key for us arrived
      awaitInputKey = true;
      inputs.awaitKey();
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
    InputKeyGrant g =
        ClientKeyExchange.inputKeyGrant(
            f.getInputKeyGrant(),
            serverSigningKey,
            options.workspaceId(),
            serverId,
            sessionId,
            ownKeyId(),
            outputs::held);
    if (g.epoch() <= inputs.epoch()) {
      stats.count("input_key_replayed");
      return;
    }
    PayloadKey key = KeyGrants.unwrap(g.grantFor(ownKeyId()), context, options.agreementKey());
    inputs.keyArrived(
        g.epoch(),
        new PayloadSender(
            new PayloadCipher(KeyRole.INPUT, key, g.inputKeyId(), context), ownKeyId()));
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
   * A share started output-key epoch n+1 ({@link OutputDecryptor#nextEpoch}): adopted (output is
   * read under the new key; the keys it adds are recipients now), ignored as a replay, or refused,
   * which closes the connection ({@code output_key_refused}).
   */
  private void outputKey(WebTtyFrame f) {
    if (serverSigningKey == null || outputs.context() == null) {
      fail("output_key_before_key_exchange");
      return;
    }
    switch (outputs.nextEpoch(f, serverSigningKey, sessionId, options.agreementKey())) {
      case REPLAYED -> {}
      case REFUSED -> {
        stats.count("output_key_refused");
        fail(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_OUTPUT_KEY_REFUSED));
      }
      case ADOPTED -> {
        shares.epochArrived(outputs.context());
        stats.count("output_keys_received");
        listener.event(f);
      }
    }
  }

  /** Control moved: our input key (if any) is retired; a change naming us waits for its key. */
  private void controlChanged(WebTtyFrame f) {
    boolean mine = !participantId.isEmpty() && f.getParticipantId().equals(participantId);
    inputs.controlChanged(mine);
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
   * The payload key from the opener's signed ClientProof ({@link
   * ClientKeyExchange#unwrapOwnGrant}).
   */
  public static PayloadKey unwrapOwnGrant(
      SignedMessage signedProof,
      UUID workspaceId,
      String serverId,
      String sessionId,
      X25519KeyPair me,
      KeyRole role) {
    return ClientKeyExchange.unwrapOwnGrant(
        signedProof, workspaceId, serverId, sessionId, me, role);
  }

  /** Output under the receiver rules ({@link OutputDecryptor#receive}). */
  private void data(WebTtyFrame f) {
    if (!outputs.ready()) {
      fail("data_before_key");
      return;
    }
    outputs.receive(f);
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
