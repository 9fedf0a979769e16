package dev.umbra.daemon.tty;

import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSender;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One terminal session of the daemon's WebTTY server (docs/webtty.md): its state, the nonce of its
 * hello, the output key it seals under (replaced by each share), who may type ({@link InputGate}),
 * the shell, and the threads that write to it.
 */
final class ServerSession {
  enum State {
    AWAIT_PROOF,
    STARTING,
    LIVE,
    ENDED
  }

  final String id;

  /** Input refusals already logged for this session (on the Vert.x context): one line per kind. */
  final Set<InputRefusal> loggedRefusals = EnumSet.noneOf(InputRefusal.class);

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
   * The X25519 keys of the output recipients this daemon was shown (its own, the opener's, the
   * devices vouched for in the proof, every key of an accepted share): a share from a connection
   * that does not know them all (a controller, a re-attached opener) names only what it adds.
   */
  final Map<KeyId, X25519PublicKey> recipientKeys = new ConcurrentHashMap<>();

  /**
   * Held while sealing and queueing an output frame, and while switching the output key and
   * queueing its OUTPUT_KEY frame: nothing sealed under the old key follows the switch.
   */
  final Object outputLock = new Object();

  /**
   * The current input key, its controller, the retired keys and the input counters (Vert.x context
   * only).
   */
  final InputGate input = new InputGate();

  volatile PtyShell shell;

  /**
   * Engine failover ({@link EngineResume}): the engine connection dropped and no instance took the
   * session over yet; output waits. {@code resumeSent} once RESUME went out on this connection.
   */
  volatile boolean suspended;

  boolean resumeSent;
  long resumeEpoch;
  long resumeTimer = -1;

  /** The highest engine sequence seen on stdin (a hint for the new home's numbering). */
  long lastSequence;

  /** The latest OUTPUT_KEY frame (a share), repeated in RESUME for the new home's JOIN checks. */
  volatile dev.umbra.proto.webtty.WebTtyFrame lastOutputKey;

  /**
   * Who opened it: the proof's signing key and device credential, checked again when trust changes.
   */
  volatile Ed25519PublicKey clientKey;

  volatile Signed clientCredential;

  /**
   * Keystrokes wait for the shell's first output (at most 1 s): input typed ahead while the
   * terminal is still being set up could otherwise be discarded by the PTY.
   */
  final CompletableFuture<Void> firstOutput = new CompletableFuture<>();

  final ExecutorService writer =
      Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("tty-writer").factory());

  /**
   * Keystroke writes handed to {@link #writer} and not finished: while any are, new ones queue
   * behind them.
   */
  final AtomicInteger queuedWrites = new AtomicInteger();

  ServerSession(String id, byte[] nonce) {
    this.id = id;
    this.nonce = nonce;
  }

  /** Remembers an output recipient's X25519 key, for later shares. */
  void rememberKey(X25519PublicKey key) {
    recipientKeys.put(KeyId.of(key), key);
  }
}
