package dev.umbra.client.tty;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.client.http.ClientTls;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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

  private final EngineSocket socket;
  private final Options options;
  private final Listener listener;
  private final TtyStats stats = new TtyStats();
  private final Promise<TtyClient> started = Promise.promise();
  private String serverId;
  private String sessionId = "";
  private String participantId = "";

  /** Output under the current output-key epoch, in counter order. */
  private final OutputDecryptor outputs;

  /** Keystrokes and sizes under our input key while we control. */
  private final InputSealer inputs;

  private final ShareRequests shares = new ShareRequests();
  private final SessionKeys keys;
  private final EngineFailover failover;

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

  private TtyClient(Vertx vertx, Options options, ClientTls tls, Listener listener) {
    this.socket = new EngineSocket(vertx, stats, tls);
    this.options = options;
    this.listener = listener;
    this.outputs = new OutputDecryptor(stats, listener);
    this.inputs = new InputSealer(stats, listener, this::write, () -> sessionId);
    this.keys = new SessionKeys(options, outputs, inputs, shares);
    this.failover =
        new EngineFailover(
            vertx, stats, this::reconnect, socket::write, this::fail, socket::closeOnContext);
  }

  /** Opens a session on {@code serverId} (done at READY); {@code tls} verifies a wss:// engine. */
  public static Future<TtyClient> open(
      Vertx vertx,
      Options options,
      ClientTls tls,
      String serverId,
      int cols,
      int rows,
      String term,
      Listener listener) {
    TtyClient c = new TtyClient(vertx, options, tls, listener);
    c.serverId = serverId;
    c.opener = true;
    c.cols = cols;
    c.rows = rows;
    c.term = term;
    return c.connect(SessionFrames.open(serverId, cols, rows));
  }

  /** Joins session {@code id} as a viewer ({@code attach=false}) or re-attaches to one's own. */
  public static Future<TtyClient> join(
      Vertx vertx, Options options, ClientTls tls, String id, boolean attach, Listener listener) {
    TtyClient c = new TtyClient(vertx, options, tls, listener);
    c.sessionId = id;
    c.attach = attach;
    return c.connect(SessionFrames.join(id, attach, options.agreementKey().publicKey()));
  }

  private Future<TtyClient> connect(WebTtyFrame first) {
    socket.connect(
        options.engineUrl(),
        options.tokens(),
        () -> write(first),
        this::onMessage,
        this::socketClosed,
        started::tryFail);
    return started.future();
  }

  /** Engine failover ({@link EngineFailover}): the same session, key and counters on a new link. */
  private void reconnect() {
    WebTtyFrame rejoin =
        SessionFrames.join(sessionId, opener || attach, options.agreementKey().publicKey())
            .toBuilder()
            .setSequence(Math.max(1, failover.lastSequence)) // the new home replays what follows
            .setTimeUnixMs(
                failover.stamp(options.clock().millis())) // newer than any attempt before
            .build();
    socket.connect(
        options.engineUrl(),
        options.tokens(),
        () -> {
          socket.write(rejoin);
          failover.attempted();
        },
        this::onMessage,
        this::socketClosed,
        e -> socketClosed("unreachable"));
  }

  private void socketClosed(String reason) {
    if (!failover.lost(started.future().succeeded() && !done, reason)) {
      finish(null, reason);
    }
  }

  /** How long this client reconnects through an engine failover (1 to 600 s; default 30 s). */
  public void failoverGrace(java.time.Duration grace) {
    failover.grace(grace);
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

  /** True once the server's signed hello verified against the pinned keys and keys exchanged. */
  public boolean endToEnd() {
    return e2eVerified;
  }

  public Set<String> participants() {
    return Set.copyOf(participants);
  }

  private void write(WebTtyFrame f) {
    if (!done && !failover.hold(f)) {
      socket.write(f);
    }
  }

  /** True while the WebSocket's send queue is full (callers reading a fast source may wait). */
  public boolean sendQueueFull() {
    return socket.writeQueueFull();
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

  /** Seals stdin like {@link #send}, {@code tamper} changing the frame first (server tests). */
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

  /** The terminal size, sealed under our input key (the visible one is for engine and viewers). */
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
    shareSigned(
        shares.sign(options, serverId, sessionId, added, devices, opener || attach ? null : self));
  }

  /** {@link #share(List, List, Handshake.RecipientDevice)} by the opener (no sharer entry). */
  public void share(List<X25519PublicKey> added, List<Handshake.RecipientDevice> devices) {
    share(added, devices, null);
  }

  /** Sends an already signed share request as it is (tests use it to replay one). */
  public void shareSigned(SignedMessage request) {
    write(SessionFrames.share(sessionId, request));
  }

  public void requestControl() {
    write(SessionFrames.command(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_REQUEST, sessionId));
  }

  public void giveControl(String participant) {
    write(SessionFrames.giveControl(sessionId, participant));
  }

  public void takeControl() {
    // only the opener (this client opened or re-attached) may take control: from now on what it
    // types is held until the daemon's fresh input key arrives, not refused because the engine's
    // CONTROL_CHANGED is still on its way (at most 64 KiB; a refused take drops it)
    if (opener || attach) {
      inputs.taking();
    }
    write(SessionFrames.command(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_TAKE, sessionId));
  }

  /** Leaves; the opener's shell keeps running (detached), {@link #join} with attach re-attaches. */
  public void detach() {
    failover.stop();
    write(SessionFrames.close(sessionId, WebTtyReason.WEBTTY_REASON_DETACHED));
    socket.close();
  }

  /** Ends the session for everyone (opener only). */
  public void terminate() {
    write(SessionFrames.close(sessionId, WebTtyReason.WEBTTY_REASON_TERMINATE));
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
    if (failover.onFrame(f, keys, outputs, inputs, options, serverId, sessionId)) {
      if (failover.takeResumed() && !done) {
        rejoined(f);
      }
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
        case WEBTTY_FRAME_TYPE_ERROR ->
            finish(null, f.getReason().isEmpty() ? "error_without_reason" : f.getReason());
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
    Handshake.ServerHello h =
        ClientKeyExchange.trustedHello(f.getServerHello(), options, serverId, f.getSessionId());
    sessionId = h.sessionId();
    participantId = f.getParticipantId(); // the engine names the opener's participant here
    WebTtyFrame proof = keys.opened(h, serverId, sessionId, cols, rows, term);
    e2eVerified = true;
    write(proof);
  }

  /** Joined or re-attached: check the hello, the opener's signed proof and our grant; unwrap. */
  private void joined(WebTtyFrame f) {
    participantId = f.getParticipantId();
    for (var p : f.getParticipantsList()) {
      participants.add(p.getParticipantId());
    }
    serverId = f.getServerId();
    Handshake.ServerHello h =
        ClientKeyExchange.trustedHello(f.getServerHello(), options, serverId, sessionId);
    keys.joined(h, f, serverId, sessionId);
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
    if (!keys.exchanged()) {
      fail("input_key_before_key_exchange");
      return;
    }
    if (!keys.inputKey(f, serverId, sessionId)) {
      stats.count("input_key_replayed");
      return;
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
   * A share started output-key epoch n+1 ({@link OutputDecryptor#nextEpoch}): adopted (output is
   * read under the new key; the keys it adds are recipients now), ignored as a replay, or refused,
   * which closes the connection ({@code output_key_refused}).
   */
  private void outputKey(WebTtyFrame f) {
    if (!keys.outputStarted()) {
      fail("output_key_before_key_exchange");
      return;
    }
    switch (keys.outputKey(f, sessionId)) {
      case REPLAYED -> {}
      case REFUSED -> {
        stats.count("output_key_refused");
        fail(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_OUTPUT_KEY_REFUSED));
      }
      case ADOPTED -> {
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

  /** Resumed after a failover: the new participant id and participants, then the notice. */
  private void rejoined(WebTtyFrame resumed) {
    participantId = failover.joined().getParticipantId();
    participants.clear();
    failover.joined().getParticipantsList().forEach(p -> participants.add(p.getParticipantId()));
    listener.event(resumed);
  }

  /** Output under the receiver rules ({@link OutputDecryptor#receive}). */
  private void data(WebTtyFrame f) {
    if (!outputs.ready()) {
      fail("data_before_key");
      return;
    }
    failover.lastSequence = f.getSequence();
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
    socket.closeOnContext();
  }
}
