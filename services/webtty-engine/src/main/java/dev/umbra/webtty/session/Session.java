package dev.umbra.webtty.session;

import dev.umbra.kit.bus.Subscription;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.webtty.session.model.Participant;
import dev.umbra.webtty.session.model.SessionModel;

/**
 * A session as its home instance (the one holding the server's connection) keeps it: the rules in
 * its {@link SessionModel}, and what only the home has — the server's connection, the session's bus
 * channel, its timer, whether its recording row exists. Confined to the event loop.
 */
final class Session {
  final SessionModel model;

  /** The server's connection; replaced when the server comes back ({@link ServerLinkGrace}). */
  ServerConn server;

  boolean stored;

  /** The resume epoch this home knows (0: never resumed); the stored one is never lower. */
  long resumeEpoch;

  /** While the server's connection is gone and the session waits for it: its grace timer. */
  long serverGraceTimer = -1;

  Subscription channel;
  long timer = -1;

  /**
   * After a failover (docs/webtty.md "Engine failover"): the output and output-key frames this home
   * sent since it took the session over (at most {@link #REPLAY_BYTES}, oldest dropped), for the
   * participants coming back after them; null for a session opened here.
   */
  java.util.ArrayDeque<WebTtyFrame> replay;

  private long replayBytes;
  static final long REPLAY_BYTES = 4L << 20;

  /** Keeps {@code f} for re-joining participants (a resumed session only). */
  void remember(WebTtyFrame f) {
    if (replay == null) {
      return;
    }
    replay.add(f);
    replayBytes += f.getSerializedSize();
    while (replayBytes > REPLAY_BYTES && !replay.isEmpty()) {
      replayBytes -= replay.removeFirst().getSerializedSize();
    }
  }

  /** The last stdin frame (the client's own sequence) this home took under each key (hex). */
  private final java.util.Map<String, Long> lastStdin = new java.util.HashMap<>();

  /** Stdin {@code sequence} from key {@code keyHex} was taken (only granted keys join: bounded). */
  void tookStdin(String keyHex, long sequence) {
    lastStdin.merge(keyHex, sequence, Math::max);
  }

  long lastStdinOf(String keyHex) {
    return lastStdin.getOrDefault(keyHex, 0L);
  }

  void forgetStdin(String keyHex) {
    lastStdin.remove(keyHex);
  }

  /**
   * The client's stamp on each present participant's failover re-join ({@code time_unix_ms}, its
   * own clock, rising with every attempt) and when this home took it (its own clock); absent for a
   * first join or a client that sends none.
   */
  private final java.util.Map<String, JoinStamp> joinStamps = new java.util.HashMap<>();

  /** A re-join's stamp ({@code clientMs}) and this home's clock when it took it. */
  private record JoinStamp(long clientMs, long tookAtMs) {}

  /**
   * How long after a stamped re-join got in an attempt its client gave up on earlier can still
   * arrive: the longest a JOIN waits in an edge's bus queue ({@link
   * dev.umbra.webtty.routing.BusOutbox#RETRY_FOR} and {@code NO_RECEIVER_FOR}), with room. Past it,
   * a stamp protects nothing and is not compared: a client's stamp is its own clock, unbounded, so
   * otherwise a far-future one (any connection of the same member with the key's public id and
   * public key, both public) would keep every later failover re-join of the real client out.
   */
  static final long LATE_ATTEMPT_MS = 60_000;

  /**
   * True when a failover re-join stamped {@code stamp} is older than the one {@code present} (the
   * same participant identity) came with, and that one got in at most {@link #LATE_ATTEMPT_MS}
   * before {@code nowMs}: an attempt its client gave up on, delivered late (it waited in an edge's
   * bus queue while no instance homed the session) after the client's newer connection got in. It
   * must not take that connection's place (docs/webtty.md "A late attempt").
   */
  boolean abandonedAttempt(Participant present, long stamp, long nowMs) {
    JoinStamp took = present == null ? null : joinStamps.get(present.id());
    return took != null
        && stamp > 0
        && stamp <= took.clientMs()
        && nowMs - took.tookAtMs() <= LATE_ATTEMPT_MS;
  }

  /**
   * {@code p} joined with {@code stamp} (0: none) at {@code nowMs}, taking {@code replaced}'s place
   * (or null).
   */
  void joined(Participant p, long stamp, Participant replaced, long nowMs) {
    if (replaced != null) {
      joinStamps.remove(replaced.id());
    }
    if (stamp > 0) {
      joinStamps.put(p.id(), new JoinStamp(stamp, nowMs));
    }
  }

  void left(Participant p) {
    joinStamps.remove(p.id());
  }

  Session(SessionModel model, ServerConn server) {
    this.model = model;
    this.server = server;
  }

  String id() {
    return model.id();
  }
}
