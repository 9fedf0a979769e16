package dev.umbra.client.tty;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Engine failover, a participant's side (docs/webtty.md "Engine failover"). When the connection to
 * the engine drops while the session is live (not after EXIT, CLOSE, ERROR or a detach), the client
 * reconnects to the engine URL (a load balancer in front of the instances) every {@link #RETRY} for
 * at most its grace ({@link FailoverGrace#CLIENT}, 30 s by default), and re-joins the same session
 * with the same key (ATTACH for the opener or a re-attached client, JOIN for a viewer). Keys,
 * counters and the receiver rules are kept: nothing is derived again. The new home answers JOINED
 * and then RESUMED with the daemon-signed resume document, which is verified against the pinned
 * server key: this session, an epoch newer than any accepted (a replay is refused), the output key
 * we read under, and our role — the engine's JOINED role must be the one the daemon signed. What
 * was typed meanwhile is held (at most {@link #MAX_HELD} frames); stdin frames sent in the last
 * moments before the drop are kept (at most {@link #MAX_SENT}) and those the daemon has not seen
 * (counter at or above the document's {@code input_counter}) are sent again, byte for byte, so no
 * keystroke is lost and none runs twice. A document that does not verify closes the connection
 * ({@code resume_refused}).
 */
final class EngineFailover {
  static final Duration RETRY = Duration.ofMillis(100);
  static final Duration ATTEMPT = Duration.ofMillis(400);
  static final int MAX_HELD = 1024;
  static final int MAX_SENT = 256;
  private static final String EDGE_FAILOVER =
      WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_EDGE_FAILOVER);

  private final Vertx vertx;
  private volatile Duration grace = FailoverGrace.DEFAULT;
  private final TtyStats stats;
  private final Runnable reconnect;
  private final Consumer<WebTtyFrame> sendNow;
  private final Consumer<String> fail;
  private final Runnable drop;
  private final Deque<WebTtyFrame> sent = new ArrayDeque<>();
  private final Deque<WebTtyFrame> held = new ArrayDeque<>();
  private boolean stopped;
  private volatile boolean active;
  private long lostAtNanos;
  private long lastEpoch;
  private SignedMessage lastResume;
  private WebTtyFrame joined;
  private long attempt;
  private long lastStamp;
  private boolean justResumed;

  /** The engine sequence of the last output frame received: a re-join asks for what follows. */
  volatile long lastSequence;

  /**
   * {@code reconnect} opens a new connection and sends the re-join frame on it; {@code sendNow}
   * writes on the current connection (past the hold); {@code fail} ends the client with a reason;
   * {@code drop} closes the current connection (a retry follows).
   */
  EngineFailover(
      Vertx vertx,
      TtyStats stats,
      Runnable reconnect,
      Consumer<WebTtyFrame> sendNow,
      Consumer<String> fail,
      Runnable drop) {
    this.vertx = vertx;
    this.stats = stats;
    this.reconnect = reconnect;
    this.sendNow = sendNow;
    this.fail = fail;
    this.drop = drop;
  }

  /** How long the next failover may take ({@link FailoverGrace} bounds). */
  void grace(Duration g) {
    if (g == null
        || g.toSeconds() < FailoverGrace.MIN_SECONDS
        || g.toSeconds() > FailoverGrace.MAX_SECONDS) {
      throw new IllegalArgumentException("failover grace out of bounds: " + g);
    }
    grace = g;
  }

  /** No failover from now on (the client detaches or the session is over). */
  synchronized void stop() {
    stopped = true;
  }

  boolean active() {
    return active;
  }

  /**
   * The connection closed; {@code live} when the session was running. True when the failover takes
   * over (the client must not end).
   */
  synchronized boolean lost(boolean live, String reason) {
    if (stopped || !live) {
      return false;
    }
    if (!active) {
      active = true;
      lostAtNanos = System.nanoTime();
      stats.count("engine_connections_lost");
    }
    joined = null;
    if (System.nanoTime() - lostAtNanos > grace.toNanos()) {
      active = false;
      fail.accept(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_SERVER_GONE));
      return true;
    }
    vertx.setTimer(RETRY.toMillis(), t -> reconnect.run());
    return true;
  }

  /**
   * The stamp of the next re-join ({@code time_unix_ms}): {@code nowMs}, but above every one
   * before, so the home can tell this attempt from an older one it receives later (an attempt given
   * up on whose JOIN waited in an engine's queue) and never lets the older take the newer's place.
   */
  synchronized long stamp(long nowMs) {
    lastStamp = Math.max(lastStamp + 1, nowMs);
    return lastStamp;
  }

  /**
   * The re-join frame went out on a new connection: without JOINED within {@link #ATTEMPT} (no
   * instance homes the session yet, so nobody answers) the connection is dropped and retried.
   */
  synchronized void attempted() {
    long mine = ++attempt;
    vertx.setTimer(
        ATTEMPT.toMillis(),
        t -> {
          synchronized (this) {
            if (active && joined == null && attempt == mine) {
              stats.count("failover_attempts_unanswered");
              drop.run();
            }
          }
        });
  }

  /**
   * A frame the client writes: while the failover runs, stdin and resizes are held (true: do not
   * write it now); otherwise the recent stdin frames are kept for a resend.
   */
  synchronized boolean hold(WebTtyFrame f) {
    boolean input =
        f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA
            || (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_RESIZE && f.hasSealed());
    if (!input) {
      return active;
    }
    if (active) {
      if (held.size() >= MAX_HELD) {
        stats.count("failover_input_dropped");
      } else {
        held.add(f);
      }
      return true;
    }
    sent.add(f);
    if (sent.size() > MAX_SENT) {
      sent.removeFirst();
    }
    return false;
  }

  /**
   * A frame on the new connection while the failover runs; true when handled here. JOINED is kept
   * until RESUMED; an ERROR or REFUSED (the daemon has not resumed the session yet) retries.
   */
  synchronized boolean onFrame(
      WebTtyFrame f,
      SessionKeys keys,
      OutputDecryptor outputs,
      InputSealer inputs,
      TtyClient.Options options,
      String serverId,
      String sessionId) {
    if (!active) {
      if (f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED) {
        stats.count("resumed_unexpected"); // no failover under way: nothing to verify, no notice
        return true;
      }
      return false;
    }
    String ownKeyHex = KeyId.of(options.agreementKey().publicKey()).toHex();
    switch (f.getType()) {
      case WEBTTY_FRAME_TYPE_JOINED -> joined = f;
      case WEBTTY_FRAME_TYPE_RESUMED -> {
        if (!f.hasResume() && EDGE_FAILOVER.equals(f.getReason())) {
          edgeResumed(f, inputs);
        } else {
          resumed(f, keys, outputs, inputs, ownKeyHex, options, serverId, sessionId);
        }
      }
      case WEBTTY_FRAME_TYPE_ERROR, WEBTTY_FRAME_TYPE_REFUSED, WEBTTY_FRAME_TYPE_CLOSE -> {
        // the daemon has not resumed the session on this instance yet: close, then retry
        stats.count("failover_retries");
        drop.run();
      }
      default -> stats.count("failover_ignored");
    }
    return true;
  }

  /** True once after a failover completed (the caller then takes the new participant id). */
  synchronized boolean takeResumed() {
    boolean r = justResumed;
    justResumed = false;
    return r;
  }

  /** The joined frame this failover accepted (its participant id and participants), or null. */
  synchronized WebTtyFrame joined() {
    return joined;
  }

  /**
   * Only our engine instance died, the session's home lived and took us back in our place
   * (docs/webtty.md "An edge instance's death"): nothing moved at the daemon, so there is no new
   * signed document; the key, input key and counters are the ones the daemon knows. The role is the
   * one JOINED gave: control only if we held it (an engine cannot hand us an input key), none if it
   * was given away meanwhile. Stdin frames after the last one the home took ({@code sequence}) are
   * sent again, then the held ones.
   */
  private void edgeResumed(WebTtyFrame f, InputSealer inputs) {
    if (rejoinedLivingHome(inputs, s -> s.getSequence() > f.getSequence())) { // edge swallowed
      stats.count("edge_failovers");
    }
  }

  /**
   * Back at a home that lived, in the role JOINED gives: control only if we held it (an engine
   * cannot hand us an input key), none if it was given away meanwhile; the kept stdin frames {@code
   * resend} picks go again (repeats the daemon already ran are dropped there, before the PTY), then
   * the held ones. False when it closed the client.
   */
  private boolean rejoinedLivingHome(InputSealer inputs, Predicate<WebTtyFrame> resend) {
    var input = inputs.sender();
    boolean control =
        joined != null && joined.getRole() == ParticipantRole.PARTICIPANT_ROLE_CONTROLLER;
    if (joined == null || (control && input == null)) {
      stats.count("resume_refused_mismatch");
      fail.accept(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_RESUME_REFUSED));
      return false;
    }
    justResumed = true;
    active = false;
    if (!control && input != null) {
      inputs.controlChanged(false); // control moved while we were away: nothing to type with
    } else if (control) {
      for (WebTtyFrame s : sent) {
        if (resend.test(s)) {
          sendNow.accept(s);
          stats.count("failover_input_resent");
        }
      }
    }
    flushHeld();
    stats.count("engine_failovers");
    stats.set("failover_ms", (System.nanoTime() - lostAtNanos) / 1_000_000);
    return true;
  }

  /** The keystrokes typed during the failover go out, and are kept for the next one. */
  private void flushHeld() {
    sent.clear();
    while (!held.isEmpty()) {
      WebTtyFrame h = held.removeFirst();
      sendNow.accept(h);
      sent.add(h);
    }
  }

  private void resumed(
      WebTtyFrame f,
      SessionKeys keys,
      OutputDecryptor outputs,
      InputSealer inputs,
      String ownKeyHex,
      TtyClient.Options options,
      String serverId,
      String sessionId) {
    if (joined == null) {
      fail.accept("resume_refused");
      return;
    }
    if (f.getResume().equals(lastResume)) {
      // the very document we accepted, from the home that took over then and lived: no replay
      // (a replay is a different or older document), the same home again after a dropped link
      var input = inputs.sender();
      if (rejoinedLivingHome(
          inputs, s -> input != null && s.getSealed().getPayloadKeyId().equals(keyIdOf(input)))) {
        stats.count("resumed_same_home");
      }
      return;
    }
    ResumeDocument d;
    try {
      d = ResumeDocument.verify(f.getResume(), keys.serverSigningKey());
    } catch (CryptoException | IllegalArgumentException e) {
      stats.count("resume_refused_forged");
      fail.accept(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_RESUME_REFUSED));
      return;
    }
    boolean mine = ownKeyHex.equals(d.controllerKeyId());
    boolean controllerByEngine = joined.getRole() == ParticipantRole.PARTICIPANT_ROLE_CONTROLLER;
    var input = inputs.sender();
    if (!d.workspaceId().equals(options.workspaceId().toString())
        || !d.serverId().equals(serverId)
        || !d.sessionId().equals(sessionId)
        || !d.outputKeyId().equals(outputs.cipher().keyId().toHex())
        || mine != controllerByEngine
        || (mine && (input == null || !input.keyId().toHex().equals(d.inputKeyId())))) {
      stats.count("resume_refused_mismatch");
      fail.accept(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_RESUME_REFUSED));
      return;
    }
    if (d.epoch() <= lastEpoch) {
      stats.count("resume_refused_replayed");
      fail.accept(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_RESUME_REFUSED_REPLAYED));
      return;
    }
    lastEpoch = d.epoch();
    lastResume = f.getResume();
    justResumed = true;
    if (!mine && input != null) {
      inputs.controlChanged(false); // the daemon no longer takes our key: nothing to type with
    }
    active = false;
    if (mine) {
      // what the daemon never got (the dead home swallowed it) goes again, byte for byte
      for (WebTtyFrame s : sent) {
        if (s.getSealed().getPayloadKeyId().equals(keyIdOf(input))
            && s.getSealed().getCounter() >= d.inputCounter()) {
          sendNow.accept(s);
          stats.count("failover_input_resent");
        }
      }
    }
    flushHeld();
    stats.count("engine_failovers");
    stats.set("failover_ms", (System.nanoTime() - lostAtNanos) / 1_000_000);
  }

  private static ByteString keyIdOf(PayloadSender input) {
    return ByteString.copyFrom(input.keyId().toBytes());
  }
}
